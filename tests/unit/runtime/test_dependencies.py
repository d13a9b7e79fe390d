"""A Python function whose requirements.txt names packages its folder does not carry: installed once
into the cache, on the path after the code, and said in the journal (issue 11 part 7)."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from harness import toolchain
from harness.journal import Journal
from harness.runtime import FunctionSpec, InvalidFunctionSpec, LocalRuntime
from harness.runtime import dependencies

# A small pure-Python package that the harness's own environment does not have.
PACKAGE = "tabulate==0.10.0"
HANDLER = "import tabulate\ndef handler(e, c):\n    return {'file': tabulate.__file__, 'version': tabulate.__version__}\n"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    """A cache of this test's own, so 'installed once' is observed from the very first install."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(folder))
    return folder


def _fn(tmp_path: Path, name: str, requirements: str, extra: dict[str, str] | None = None) -> Path:
    code = tmp_path / name
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    (code / "requirements.txt").write_text(requirements)
    for rel, text in (extra or {}).items():
        (code / rel).parent.mkdir(parents=True, exist_ok=True)
        (code / rel).write_text(text)
    return code


def test_missing_requirements_are_installed_once_then_reused(tmp_path: Path, cache: Path) -> None:
    code = _fn(tmp_path, "fn", f"# the function's own\n{PACKAGE}\n")
    first, second = Journal(), Journal()
    with LocalRuntime(journal=first) as rt:
        rt.register(FunctionSpec("deps", code, "app.handler", timeout_s=10))
        seen = json.loads(rt.invoke("deps", b"{}").payload)
    [entry] = first.entries("dependencies_installed", function="deps")
    assert entry["requirements"] == str(code / "requirements.txt")
    assert entry["missing"] == ["tabulate"]
    assert entry["note"] == "installed locally: make sure your deployment bundles them"
    target = Path(entry["target"])
    assert target.is_relative_to(cache) and Path(seen["file"]).is_relative_to(target)
    assert seen["version"] == "0.10.0"
    assert len(first.entries("toolchain_install")) == 1
    with LocalRuntime(journal=second) as rt:  # a second run: the same folder, nothing installed again
        rt.register(FunctionSpec("deps", code, "app.handler", timeout_s=10))
        assert json.loads(rt.invoke("deps", b"{}").payload)["file"] == seen["file"]
    assert second.entries("toolchain_install") == []
    assert second.entries("dependencies_installed", function="deps")[0]["target"] == str(target)


def test_vendored_or_runtime_provided_requirements_install_nothing(tmp_path: Path, cache: Path) -> None:
    vendored = {"tabulate/__init__.py": "__version__ = 'vendored'\n"}
    code = _fn(tmp_path, "fn", f"{PACKAGE}\nboto3==1.0\nbotocore\n", vendored)  # boto3: the runtime has it
    journal = Journal()
    with LocalRuntime(journal=journal) as rt:
        rt.register(FunctionSpec("vendored", code, "app.handler"))
        assert json.loads(rt.invoke("vendored", b"{}").payload)["version"] == "vendored"
    assert journal.entries("dependencies_installed") == [] and not cache.exists()


def test_failing_pip_install_names_the_function_and_pips_error(tmp_path: Path, cache: Path) -> None:
    code = _fn(tmp_path, "fn", "harness-no-such-package-anywhere==0.0.1\n")
    with LocalRuntime() as rt:
        with pytest.raises(InvalidFunctionSpec, match=r"(?s)function 'broken': its requirements.txt could not be "
                                                      r"installed: .*harness-no-such-package-anywhere"):
            rt.register(FunctionSpec("broken", code, "app.handler"))
    assert not any(p.name.startswith("python-deps") for p in cache.iterdir())  # nothing half-installed kept


@pytest.mark.parametrize("text, names", [
    ("requests==2.0\n# c\n\nPyYAML>=6 ; python_version > '3'\n--index-url https://x\n", ["requests", "PyYAML"]),
    ("-e ./local\n", None),
    ("git+https://example.invalid/x.git\n", None),
])
def test_requirement_names(text: str, names: list[str] | None) -> None:
    assert dependencies.requirement_names(text) == names


def test_vendored_detects_dist_info_and_modules(tmp_path: Path) -> None:
    (tmp_path / "PyYAML-6.0.dist-info").mkdir()
    (tmp_path / "six.py").write_text("")
    assert dependencies.vendored(tmp_path, "pyyaml") and dependencies.vendored(tmp_path, "six")
    assert not dependencies.vendored(tmp_path, "requests")


NODE_HANDLERS = {
    "cjs.js": "const isNumber = require('is-number');\nexports.handler = async () => [isNumber(5), isNumber('x'), require.resolve('is-number')];\n",
    "esm.mjs": "import isNumber from 'is-number';\nexport const handler = async () => [isNumber(5), isNumber('x')];\n",
}


@pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None, reason="Node.js and npm are needed")
def test_package_json_dependencies_without_node_modules_are_installed_once(tmp_path: Path) -> None:
    """The shared cache (the RIC and SDK are in it already); a package.json of this run's own (its
    hash keys the install), so the first install is observed, and removed afterwards."""
    code = tmp_path / "node-fn"
    code.mkdir()
    (code / "package.json").write_text(json.dumps({
        "name": f"fn-{uuid.uuid4().hex}", "dependencies": {"is-number": "7.0.0", "@aws-sdk/client-s3": "*"},
        "devDependencies": {"is-odd": "3.0.1"}}))
    for name, text in NODE_HANDLERS.items():
        (code / name).write_text(text)
    first, second = Journal(), Journal()
    with LocalRuntime(journal=first) as rt:
        for style in ("cjs", "esm"):
            rt.register(FunctionSpec(style, code, f"{style}.handler", runtime="nodejs20.x"))
            result = rt.invoke(style, b"{}")
            assert result.function_error is None, result.payload
            assert json.loads(result.payload)[:2] == [True, False]
    entries = first.entries("dependencies_installed", function="cjs")
    assert entries[0]["missing"] == ["is-number"] and entries[0]["note"] == dependencies.NOTE
    target = Path(entries[0]["target"])
    try:
        assert target.is_relative_to(toolchain.cache_dir())
        assert sorted(p.name for p in target.iterdir() if not p.name.startswith(".")) == ["is-number"]  # no SDK, no dev
        assert [e["tool"] for e in first.entries("toolchain_install")] == [f"{code / 'package.json'} for cjs"]
        with LocalRuntime(journal=second) as rt:
            rt.register(FunctionSpec("cjs", code, "cjs.handler", runtime="nodejs20.x"))
            assert Path(json.loads(rt.invoke("cjs", b"{}").payload)[2]).is_relative_to(target)
        assert second.entries("toolchain_install") == []
    finally:
        shutil.rmtree(target.parent)


def test_node_modules_present_or_only_the_sdk_listed_installs_nothing(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"@aws-sdk/client-s3": "^3"}}')
    assert dependencies.missing_node_dependencies(tmp_path) is None
    (tmp_path / "package.json").write_text('{"dependencies": {"is-number": "7.0.0"}}')
    assert dependencies.missing_node_dependencies(tmp_path) == (tmp_path / "package.json", ["is-number"])
    (tmp_path / "node_modules").mkdir()
    assert dependencies.missing_node_dependencies(tmp_path) is None
