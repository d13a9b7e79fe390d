"""--app / --assembly / --template / --stack / --scenarios, and how they override the project file."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sources_testkit import copy_fixture_assembly, stack_artifact, write_manifest, write_shell_app

from harness.deploy.sources import SourceError
from harness.deploy.sources.assembly import AssemblySource
from harness.deploy.sources.cdk_app import CdkAppSource
from harness.cli_support import add_source_arguments
from harness.project import resolve_source_args
from harness.deploy.sources.template import TemplateSource
from harness.project import ProjectError


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="harness test")
    add_source_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose file names an app (with a watch list) and a scenarios folder; a template beside it."""
    write_shell_app(tmp_path / "app")
    (tmp_path / "shared").mkdir()
    (tmp_path / "checks").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "sam.yaml").write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    (tmp_path / "shardproof.toml").write_text('app = "app"\nwatch = ["shared"]\nscenarios = "checks"\n')
    (tmp_path / "sub").mkdir()
    return tmp_path


def test_the_sources_are_mutually_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse("--app", "a", "--template", "t.yaml")
    assert "not allowed with argument" in capsys.readouterr().err
    args = _parse("--assembly", "cdk.out", "--stack", "Prod", "--scenarios", "s")
    assert (args.assembly, args.stack, args.scenarios, args.app, args.template) == ("cdk.out", "Prod", "s", None, None)


def test_no_flags_use_the_project_file(project: Path) -> None:
    found, source, scenarios = resolve_source_args(_parse(), cwd=project / "sub")
    assert found.file == project / "shardproof.toml"
    assert isinstance(source, CdkAppSource) and source.spec.path == project / "app"
    assert source.spec.watch == (project / "shared",)
    assert source.cache.root == project / ".harness" / "synth"
    assert scenarios == project / "checks"
    assert source.synthesize().stack_name == "ShellStack"
    assert (project / ".harness" / "synth").is_dir()


def test_flags_override_the_project_file_relative_to_the_current_folder(project: Path) -> None:
    _, source, scenarios = resolve_source_args(_parse("--template", "../sam.yaml", "--stack", "Mine",
                                                      "--scenarios", "../other"), cwd=project / "sub")
    assert isinstance(source, TemplateSource) and source.spec.path == project / "sam.yaml"
    assert source.synthesize().stack_name == "Mine"
    assert scenarios == project / "other"


def test_stack_alone_overrides_the_project_stack(project: Path) -> None:
    out = copy_fixture_assembly(project / "cdk.out")
    write_manifest(out, {"A": stack_artifact("A", "Fixture.template.json"),
                         "B": stack_artifact("B", "Fixture.template.json")})
    (project / "shardproof.toml").write_text('assembly = "cdk.out"\nstack = "A"\n')
    assert resolve_source_args(_parse(), cwd=project)[1].synthesize().stack_name == "A"
    _, source, _ = resolve_source_args(_parse("--stack", "B"), cwd=project)
    assert isinstance(source, AssemblySource) and source.synthesize().stack_name == "B"


def test_naming_the_projects_own_app_keeps_its_watch_list(project: Path) -> None:
    _, same, _ = resolve_source_args(_parse("--app", "app"), cwd=project)
    assert same.spec.watch == (project / "shared",)
    write_shell_app(project / "other")
    _, other, _ = resolve_source_args(_parse("--app", "other"), cwd=project)
    assert other.spec.watch == ()


def test_bad_flags_are_one_clear_line(project: Path) -> None:
    for argv, pattern in [(("--app", "nowhere"), r"^--app nowhere: .*nowhere does not exist$"),
                          (("--scenarios", "gone"), r"^--scenarios gone: .*gone does not exist$"),
                          (("--assembly", "other"), r"not a cloud assembly: manifest.json is missing$"),
                          (("--app", "other"), r"cdk.json is missing")]:
        with pytest.raises(SourceError, match=pattern) as err:
            resolve_source_args(_parse(*argv), cwd=project)
        assert "\n" not in str(err.value)
    (project / "shardproof.toml").write_text('app = "gone"\n')
    with pytest.raises(ProjectError, match="key 'app'"):
        resolve_source_args(_parse(), cwd=project)


def test_without_a_project_file_or_a_sample_stack_the_error_says_to_run_init(tmp_path: Path, monkeypatch) -> None:
    """An installed tool has no sample infra/ to fall back on."""
    from harness.deploy.sources import SourceSpec
    from harness.project import Project

    fallback = Project(root=tmp_path, file=None, source=SourceSpec("app", tmp_path / "site-packages" / "infra"),
                       scenarios=tmp_path / "scenarios")
    monkeypatch.setattr("harness.project.load_project", lambda here: fallback)
    with pytest.raises(SourceError, match=r"no shardproof.toml .* run `shardproof init` in your repository"):
        resolve_source_args(_parse(), cwd=tmp_path)
