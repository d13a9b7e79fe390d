"""The synth cache key is built from what the app reads: cdk.json's `watch.include/exclude` when it
has them, else the app folder minus the harness's and the tools' state (scenarios/, reports/,
.harness, cdk.out, node_modules, .venv, .git). With `app = "."`, a scenario run writing its report
or a new scenario file must not cost a re-synth and a new cache entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.deploy.sources import SynthError
from harness.deploy.sources.cdk_app import cache_key, glob_regex


def key(app: Path, watch: tuple[Path, ...] = ()) -> str:
    return cache_key(app, watch, "python3 app.py", {})


def app_dot(tmp_path: Path, cdk_json: dict | None = None) -> Path:
    """A project whose app folder is the project folder itself (app = ".")."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "cdk.json").write_text(json.dumps(cdk_json or {"app": "python3 app.py"}))
    (tmp_path / "app.py").write_text("print('synth')\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "stack.py").write_text("STACK = 1\n")
    return tmp_path


@pytest.mark.parametrize("state", ["scenarios/02_new.yaml", "reports/result.json", ".harness/up.json",
                                   "cdk.out/manifest.json", "node_modules/x/index.js", ".venv/bin/python",
                                   ".git/HEAD"])
def test_app_dot_state_files_do_not_change_the_key(tmp_path: Path, state: str) -> None:
    app = app_dot(tmp_path)
    before = key(app)
    path = app / state
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("written by a run")
    assert key(app) == before


def test_app_dot_code_changes_the_key(tmp_path: Path) -> None:
    app = app_dot(tmp_path)
    before = key(app)
    (app / "lib" / "stack.py").write_text("STACK = 2\n")
    assert key(app) != before
    nested = app / "lib" / "scenarios"
    nested.mkdir()
    edited = key(app)
    (nested / "model.py").write_text("x = 1\n")  # only the top-level scenarios/ is the harness's
    assert key(app) != edited


def test_cdk_json_watch_decides_what_the_key_covers(tmp_path: Path) -> None:
    app = app_dot(tmp_path, {"app": "python3 app.py",
                             "watch": {"include": ["**"], "exclude": ["README.md", "**/__pycache__", "tests", "*.log"]}})
    before = key(app)
    (app / "README.md").write_text("docs")
    (app / "tests").mkdir()
    (app / "tests" / "test_stack.py").write_text("def test(): pass\n")
    (app / "synth.log").write_text("log")
    assert key(app) == before
    (app / "lib" / "stack.py").write_text("STACK = 3\n")
    assert key(app) != before


def test_cdk_json_watch_include_limits_the_key_to_what_it_names(tmp_path: Path) -> None:
    app = app_dot(tmp_path, {"app": "python3 app.py", "watch": {"include": ["app.py", "lib/**/*.py"]}})
    before = key(app)
    (app / "notes.txt").write_text("not read by the app")
    assert key(app) == before
    (app / "lib" / "deep").mkdir()
    (app / "lib" / "deep" / "more.py").write_text("y = 1\n")
    assert key(app) != before


def test_a_watched_path_outside_the_app_still_counts(tmp_path: Path) -> None:
    app = app_dot(tmp_path / "app", {"app": "python3 app.py", "watch": {"include": ["app.py"]}})
    shared = tmp_path / "lambdas"
    shared.mkdir()
    (shared / "handler.py").write_text("a = 1\n")
    before = key(app, (shared,))
    (shared / "handler.py").write_text("a = 2\n")
    assert key(app, (shared,)) != before


def test_a_bad_watch_list_is_named(tmp_path: Path) -> None:
    app = app_dot(tmp_path, {"app": "python3 app.py", "watch": {"include": [1]}})
    with pytest.raises(SynthError, match="watch.include must be a list of glob strings"):
        key(app)


@pytest.mark.parametrize("pattern, path, matches", [
    ("**", "a/b/c.py", True), ("**/*.d.ts", "lib/x.d.ts", True), ("**/*.d.ts", "x.d.ts", True),
    ("*.js", "lib/x.js", False), ("node_modules", "node_modules/a/b.js", True), ("cdk*.json", "cdk.json", True),
    ("lib/*.py", "lib/deep/x.py", False), ("./app.py", "app.py", True),
])
def test_glob_semantics(pattern: str, path: str, matches: bool) -> None:
    assert (glob_regex(pattern).fullmatch(path) is not None) is matches
