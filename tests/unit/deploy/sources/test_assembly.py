"""The `assembly` source: flat and nested Stage assemblies, choosing a stack, and where assets are."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from sources_testkit import copy_fixture_assembly, fixture_template, nested_artifact, stack_artifact, write_manifest

from harness.deploy.resources.awslambda import asset_dir
from harness.deploy.sources import SourceError, SourceSpec, open_source

CONSUMER = "Consumer8D6BE417"


def _flat(tmp_path: Path) -> Path:
    out = copy_fixture_assembly(tmp_path / "cdk.out")
    write_manifest(out, {"Fixture": stack_artifact("Fixture", "Fixture.template.json")})
    return out


def _staged(tmp_path: Path) -> Path:
    """Two Stages, each a nested assembly holding the fixture stack; nothing at the top level."""
    out = tmp_path / "cdk.out"
    write_manifest(out, {"assembly-Dev": nested_artifact("assembly-Dev", "Dev"),
                         "assembly-Prod": nested_artifact("assembly-Prod", "Prod")})
    for stage in ("Dev", "Prod"):
        nested = copy_fixture_assembly(out / f"assembly-{stage}")
        write_manifest(nested, {f"{stage}Fixture1A2B": stack_artifact(
            f"{stage}Fixture1A2B", "Fixture.template.json", f"{stage}-Fixture", f"{stage}/Fixture")})
    return out


def _code_dir(result: object, lid: str = CONSUMER) -> Path:
    raw = result.template["Resources"][lid]  # type: ignore[attr-defined]
    return asset_dir(SimpleNamespace(assembly_dir=result.assembly_dir), lid, raw)  # type: ignore[attr-defined]


def test_a_flat_assembly_gives_its_only_stack(tmp_path: Path) -> None:
    out = _flat(tmp_path)
    result = open_source(SourceSpec("assembly", out)).synthesize()
    assert result.template == fixture_template()
    assert result.stack_name == "Fixture" and result.assembly_dir == out.resolve() and result.cached is False
    assert (_code_dir(result) / "app.py").is_file()


def test_pointing_at_the_manifest_is_as_good_as_its_folder(tmp_path: Path) -> None:
    out = _flat(tmp_path)
    assert open_source(SourceSpec("assembly", out / "manifest.json")).synthesize().stack_name == "Fixture"


@pytest.mark.parametrize("wanted", ["Prod-Fixture", "ProdFixture1A2B", "Prod/Fixture"])
def test_a_nested_stack_by_name_artifact_id_or_path(tmp_path: Path, wanted: str) -> None:
    out = _staged(tmp_path)
    result = open_source(SourceSpec("assembly", out, stack=wanted)).synthesize()
    assert result.stack_name == "Prod-Fixture"
    assert result.assembly_dir == (out / "assembly-Prod").resolve()  # assets are relative to the nested folder
    assert _code_dir(result).parent == (out / "assembly-Prod").resolve()
    assert not (out / result.template["Resources"][CONSUMER]["Metadata"]["aws:asset:path"]).exists()


def test_several_stacks_and_no_stack_lists_every_one(tmp_path: Path) -> None:
    out = _staged(tmp_path)
    with pytest.raises(SourceError) as err:
        open_source(SourceSpec("assembly", out)).synthesize()
    msg = str(err.value)
    assert "holds 2 stacks" in msg and "--stack" in msg and "\n" not in msg
    assert "Dev-Fixture (artifact DevFixture1A2B, in nested assembly assembly-Dev)" in msg
    assert "Prod-Fixture (artifact ProdFixture1A2B, in nested assembly assembly-Prod)" in msg


def test_an_unknown_stack_lists_the_known_ones(tmp_path: Path) -> None:
    out = _staged(tmp_path)
    with pytest.raises(SourceError, match=r"no stack 'Staging'.*Dev-Fixture .*Prod-Fixture "):
        open_source(SourceSpec("assembly", out, stack="Staging")).synthesize()


def test_one_stack_at_the_top_and_one_nested(tmp_path: Path) -> None:
    out = _flat(tmp_path)
    manifest_artifacts = {"Fixture": stack_artifact("Fixture", "Fixture.template.json"),
                          "assembly-Prod": nested_artifact("assembly-Prod", "Prod")}
    write_manifest(out, manifest_artifacts)
    nested = copy_fixture_assembly(out / "assembly-Prod")
    write_manifest(nested, {"ProdFixture": stack_artifact("ProdFixture", "Fixture.template.json", "Prod-Fixture")})
    top = open_source(SourceSpec("assembly", out, stack="Fixture")).synthesize()
    assert top.assembly_dir == out.resolve()
    assert open_source(SourceSpec("assembly", out, stack="Prod-Fixture")).synthesize().assembly_dir == nested.resolve()


def test_broken_assemblies_are_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such folder"):
        open_source(SourceSpec("assembly", tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="not a cloud assembly: manifest.json is missing"):
        open_source(SourceSpec("assembly", tmp_path / "empty"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.json").write_text("{nope")
    with pytest.raises(SourceError, match=r"bad/manifest.json is not JSON"):
        open_source(SourceSpec("assembly", bad)).synthesize()
    write_manifest(bad, {"Gone": stack_artifact("Gone", "Gone.template.json")})
    with pytest.raises(SourceError, match=r"stack Gone: its template .*Gone.template.json is missing"):
        open_source(SourceSpec("assembly", bad)).synthesize()
    write_manifest(bad, {"S": {"type": "aws:cloudformation:stack", "properties": {}}})
    with pytest.raises(SourceError, match="stack S in the cloud assembly .* names no templateFile"):
        open_source(SourceSpec("assembly", bad)).synthesize()
    write_manifest(bad, {"assembly-X": nested_artifact("assembly-X", "X")})
    with pytest.raises(SourceError, match=r"assembly-X is not a cloud assembly"):
        open_source(SourceSpec("assembly", bad)).synthesize()
    write_manifest(bad, {"Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}})
    with pytest.raises(SourceError, match="holds no stack"):
        open_source(SourceSpec("assembly", bad)).synthesize()


def test_an_assembly_takes_no_context_and_no_watch(tmp_path: Path) -> None:
    out = _flat(tmp_path)
    with pytest.raises(SourceError, match="takes no CDK context.*batchSize"):
        open_source(SourceSpec("assembly", out)).synthesize({"batchSize": 5})
    assert open_source(SourceSpec("assembly", out)).synthesize({}).stack_name == "Fixture"
    with pytest.raises(SourceError, match="`watch` applies to a CDK app only"):
        open_source(SourceSpec("assembly", out, watch=(tmp_path,)))
