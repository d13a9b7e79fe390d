"""The `app` source: any command in cdk.json, run the CLI's way, cached by content."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from sources_testkit import (
    CDK_APP,
    SHELL_APP,
    nested_artifact,
    queue_template,
    stack_artifact,
    write_executable,
    write_layout_app,
    write_shell_app,
)

from harness.deploy.resources.awslambda import asset_dir
from harness.deploy.sources import SourceError, SourceSpec, SynthError, open_source
from harness.deploy.sources.cdk_app import CdkAppSource, app_environment


def _source(app: Path, tmp_path: Path, **spec: object) -> CdkAppSource:
    source = open_source(SourceSpec("app", app, **spec), cache_dir=tmp_path / "cache")  # type: ignore[arg-type]
    assert isinstance(source, CdkAppSource)
    return source


def _entries(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "cache").iterdir())


def test_a_shell_script_app_runs_through_the_shell_with_the_merged_context(tmp_path: Path) -> None:
    app = write_shell_app(tmp_path / "app", context={"fromCdkJson": 1, "overridden": "cdk.json",
                                                     "aws:cdk:enable-asset-metadata": False})
    result = _source(app, tmp_path).synthesize({"overridden": "caller", "batchSize": 5})
    meta = result.template["Metadata"]
    assert meta["context"] == {"fromCdkJson": 1, "overridden": "caller", "batchSize": 5,
                               "aws:cdk:enable-asset-metadata": True}  # forced on, whatever cdk.json says
    assert meta["args"] == "--from-cdk-json"  # the command line of cdk.json, through the shell
    assert Path(meta["python3"]).parent == Path(sys.executable).parent  # the harness's interpreter first
    assert result.stack_name == "ShellStack" and result.cached is False
    assert result.assembly_dir.parent.parent == (tmp_path / "cache").resolve()
    assert result.source_label.startswith("CDK app ")


def test_cdk_context_json_is_the_lowest_precedence(tmp_path: Path) -> None:
    app = write_shell_app(tmp_path / "app", context={"a": "cdk.json"})
    (app / "cdk.context.json").write_text(json.dumps({"a": "lookup", "b": "lookup"}))
    ctx = _source(app, tmp_path).synthesize().template["Metadata"]["context"]
    assert ctx["a"] == "cdk.json" and ctx["b"] == "lookup"


def test_the_apps_node_modules_bin_is_on_path(tmp_path: Path) -> None:
    app = tmp_path / "ts-app"
    write_executable(app / "node_modules" / ".bin" / "fake-cdk-app", SHELL_APP)
    write_shell_app(app, command="fake-cdk-app from-node-modules")
    result = _source(app, tmp_path).synthesize()
    assert result.template["Metadata"]["args"] == "from-node-modules"


def test_second_call_is_a_cache_hit_and_content_edits_make_new_entries(tmp_path: Path) -> None:
    app = write_shell_app(tmp_path / "app")
    shared = tmp_path / "shared.py"
    shared.write_text("x = 1\n")
    source = _source(app, tmp_path, watch=(shared,))
    first = source.synthesize()
    again = source.synthesize()
    assert again.cached is True and again.template == first.template and again.assembly_dir == first.assembly_dir

    # What cannot change a synth does not change the key.
    (app / "node_modules").mkdir()
    (app / "node_modules" / "junk.js").write_text("1")
    (app / "__pycache__").mkdir()
    (app / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"x")
    (app / "cdk.out").mkdir()
    (app / "cdk.out" / "old.json").write_text("{}")
    assert source.synthesize().cached is True

    (app / "marker.txt").write_text("v2")  # a file of the app folder
    edited = source.synthesize()
    assert edited.cached is False and edited.template["Metadata"]["marker"] == "v2"
    shared.write_text("x = 2\n")  # a watched file outside it
    assert source.synthesize().cached is False
    assert source.synthesize({"batchSize": 2}).cached is False  # the context
    assert len([e for e in _entries(tmp_path) if not e.startswith(".")]) == 4


def test_a_failing_command_shows_the_command_its_exit_status_and_the_stderr_tail(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "fail.sh").write_text('for i in $(seq -w 1 40); do echo "err-$i" >&2; done\nexit 3\n')
    (app / "cdk.json").write_text(json.dumps({"app": "sh fail.sh"}))
    with pytest.raises(SourceError) as err:
        _source(app, tmp_path).synthesize()
    assert isinstance(err.value, SynthError)
    msg = str(err.value)
    assert "`sh fail.sh`" in msg and "exit 3" in msg
    assert "err-40" in msg and "err-11" in msg and "err-10" not in msg  # the last 30 lines
    assert [p for p in _entries(tmp_path)] == []  # nothing published, no work folder left


def test_an_app_that_exits_0_without_an_assembly_is_named(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "cdk.json").write_text(json.dumps({"app": "echo forgot to synth"}))
    with pytest.raises(SynthError, match=r"wrote no cloud assembly .*manifest.json is missing.*app.synth\(\)"):
        _source(app, tmp_path).synthesize()


def test_missing_or_wrong_cdk_json_is_named(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="cdk.json is missing"):
        _source(tmp_path / "empty", tmp_path)
    with pytest.raises(SourceError, match="no such folder"):
        _source(tmp_path / "nowhere", tmp_path)
    app = tmp_path / "app"
    app.mkdir()
    (app / "cdk.json").write_text('{"context": {}}')
    with pytest.raises(SourceError, match="'app' must name the command"):
        _source(app, tmp_path).synthesize()
    (app / "cdk.json").write_text('{"app": "x",\n "context": [}')
    with pytest.raises(SourceError, match=r"cdk.json, line 2: not valid JSON"):
        _source(app, tmp_path).synthesize()


def test_bad_context_is_named(tmp_path: Path) -> None:
    source = _source(write_shell_app(tmp_path / "app"), tmp_path)
    with pytest.raises(SynthError, match="context key 1 must be a string"):
        source.synthesize({1: "x"})  # type: ignore[dict-item]
    with pytest.raises(SynthError, match="'k'.*not JSON-serializable"):
        source.synthesize({"k": object()})


def test_the_stack_is_chosen_after_the_cache(tmp_path: Path) -> None:
    app = write_layout_app(tmp_path / "app", {
        "manifest.json": {"artifacts": {"A": stack_artifact("A", "A.json"), "B": stack_artifact("B", "B.json", "Bee")}},
        "A.json": queue_template("A"), "B.json": queue_template("B"),
    })
    with pytest.raises(SynthError, match=r"holds 2 stacks.*A \(artifact A, top level\); Bee \(artifact B, top level\)"):
        _source(app, tmp_path).synthesize()
    chosen = _source(app, tmp_path, stack="Bee").synthesize()
    assert chosen.cached is True and chosen.stack_name == "Bee" and list(chosen.template["Resources"]) == ["B"]


def test_the_cache_keeps_at_most_max_entries(tmp_path: Path) -> None:
    app = write_shell_app(tmp_path / "app")
    source = CdkAppSource(SourceSpec("app", app), cache_dir=tmp_path / "cache", max_entries=2)
    for n in range(4):
        source.synthesize({"n": n})
    assert len(_entries(tmp_path)) == 2
    assert source.synthesize({"n": 3}).cached is True and source.synthesize({"n": 0}).cached is False


def test_app_environment_is_one_place_to_extend(tmp_path: Path) -> None:
    env = app_environment(tmp_path, tmp_path / "out", {"k": 1}, extra_path=[Path("/opt/esbuild/bin")])
    path = env["PATH"].split(":")
    assert path[:3] == ["/opt/esbuild/bin", str(Path(sys.executable).parent), str(tmp_path / "node_modules" / ".bin")]
    assert env["CDK_OUTDIR"] == str(tmp_path / "out") and json.loads(env["CDK_CONTEXT_JSON"]) == {"k": 1}
    assert env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"]


def test_a_nested_stage_assembly_from_an_app(tmp_path: Path) -> None:
    """An app whose stack lives in a Stage: the result's assembly_dir is the nested folder."""
    app = write_layout_app(tmp_path / "app", {
        "manifest.json": {"artifacts": {"assembly-Prod": nested_artifact("assembly-Prod", "Prod")}},
        "assembly-Prod/manifest.json": {"artifacts": {"ProdApi1": stack_artifact("ProdApi1", "Api.json", "Prod-Api")}},
        "assembly-Prod/Api.json": queue_template("Q"),
    })
    result = _source(app, tmp_path).synthesize()
    assert result.stack_name == "Prod-Api" and result.assembly_dir.name == "assembly-Prod"


@pytest.mark.timeout(180)
def test_a_python_cdk_app_synthesizes_with_asset_metadata(tmp_path: Path) -> None:
    """One real synth (~8 s of one core): the fixture CDK app, through its cdk.json, as the CLI would."""
    result = _source(CDK_APP, tmp_path).synthesize()
    assert result.stack_name == "Fixture" and result.cached is False
    functions = {lid: r for lid, r in result.template["Resources"].items()
                 if r["Type"] == "AWS::Lambda::Function" and "ZipFile" not in r["Properties"].get("Code", {})}
    assert functions
    for lid, raw in functions.items():
        code = asset_dir(SimpleNamespace(assembly_dir=result.assembly_dir), lid, raw)  # as the deployer does
        assert (code / "app.py").is_file()


def test_a_relative_cache_folder_still_receives_the_assembly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app runs in its own folder, so the CDK_OUTDIR it is given must not be relative to ours."""
    app = write_shell_app(tmp_path / "app")
    monkeypatch.chdir(tmp_path)
    result = CdkAppSource(SourceSpec("app", Path("app")), cache_dir=Path("rel-cache")).synthesize()
    assert result.assembly_dir.is_relative_to(tmp_path / "rel-cache") and result.stack_name == "ShellStack"
