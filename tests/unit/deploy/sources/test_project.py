"""The project file: discovery, shardproof.toml and [tool.shardproof], every bad key, and the fallback."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from harness.project import LegacyProjectFileWarning, Project, ProjectError, harness_checkout, load_project


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
    return root


def test_shardproof_toml_is_found_from_a_subfolder_and_its_paths_are_its_own(tmp_path: Path) -> None:
    _tree(tmp_path, {"shardproof.toml": 'app = "cdk"\nstack = "Orders"\nwatch = ["src", "shared.py"]\n',
                     "cdk/cdk.json": "{}", "src/": "", "shared.py": "", "deep/er/": ""})
    project = load_project(tmp_path / "deep" / "er")
    assert project == Project(root=tmp_path, file=tmp_path / "shardproof.toml",
                              source=project.source, scenarios=tmp_path / "scenarios")
    assert (project.source.kind, project.source.path, project.source.stack) == ("app", tmp_path / "cdk", "Orders")
    assert project.source.watch == (tmp_path / "src", tmp_path / "shared.py")


def test_pyproject_tool_shardproof(tmp_path: Path) -> None:
    _tree(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n\n[tool.shardproof]\ntemplate = "sam/template.yaml"\n'
                                       'scenarios = "checks"\n',
                     "sam/template.yaml": "Resources: {}\n", "checks/": ""})
    project = load_project(tmp_path)
    assert project.file == tmp_path / "pyproject.toml"
    assert (project.source.kind, project.source.path) == ("template", tmp_path / "sam" / "template.yaml")
    assert project.scenarios == tmp_path / "checks"


def test_a_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    _tree(tmp_path, {"shardproof.toml": 'assembly = "cdk.out"\n', "cdk.out/": "",
                     "pkg/pyproject.toml": '[project]\nname = "pkg"\n'})
    project = load_project(tmp_path / "pkg")
    assert project.file == tmp_path / "shardproof.toml" and project.source.kind == "assembly"


def test_the_nearest_project_file_wins(tmp_path: Path) -> None:
    _tree(tmp_path, {"shardproof.toml": 'assembly = "out"\n', "out/": "",
                     "inner/shardproof.toml": 'assembly = "out2"\n', "inner/out2/": ""})
    assert load_project(tmp_path / "inner").source.path == tmp_path / "inner" / "out2"


@pytest.mark.parametrize("text, key, problem", [
    ('app = "a"\ncolour = "blue"\n', "colour", "unknown key"),
    ('[harness]\napp = "a"\n', "harness", "keys go at the top level"),
    ('app = "a"\ntemplate = "t.yaml"\n', "template", "only one of app, assembly, template"),
    ('app = 3\n', "app", "must be a non-empty string"),
    ('app = ""\n', "app", "must be a non-empty string"),
    ('app = "a"\nstack = ["x"]\n', "stack", "must be a non-empty string"),
    ('app = "a"\nscenarios = 1\n', "scenarios", "must be a non-empty string"),
    ('app = "a"\nwatch = "src"\n', "watch", "must be a list of paths"),
    ('app = "a"\nwatch = ["src", 2]\n', "watch", "must be a list of paths"),
    ('app = "missing"\n', "app", "does not exist"),
    ('app = "t.yaml"\n', "app", "is not a folder"),
    ('template = "a"\n', "template", "is not a file"),
    ('assembly = "nowhere"\n', "assembly", "does not exist"),
    ('app = "a"\nwatch = ["src", "gone"]\n', "watch[1]", "does not exist"),
    ('template = "t.yaml"\nwatch = ["src"]\n', "watch", "applies to an app only"),
])
def test_each_bad_key_names_the_file_and_the_key(tmp_path: Path, text: str, key: str, problem: str) -> None:
    _tree(tmp_path, {"shardproof.toml": text, "a/cdk.json": "{}", "t.yaml": "Resources: {}\n", "src/": ""})
    with pytest.raises(ProjectError) as err:
        load_project(tmp_path)
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path / 'shardproof.toml'}: key '{key}'") and problem in msg


def test_a_pyproject_key_is_named_with_its_table(tmp_path: Path) -> None:
    _tree(tmp_path, {"pyproject.toml": '[tool.shardproof]\napp = "gone"\n'})
    with pytest.raises(ProjectError, match=r"pyproject.toml: key 'tool.shardproof.app': .* does not exist"):
        load_project(tmp_path)


def test_files_that_cannot_be_used(tmp_path: Path) -> None:
    _tree(tmp_path, {"shardproof.toml": 'stack = "x"\n'})
    with pytest.raises(ProjectError, match="shardproof.toml: no stack source; set exactly one of the keys 'app'"):
        load_project(tmp_path)
    _tree(tmp_path, {"shardproof.toml": 'app = "a\n'})
    with pytest.raises(ProjectError, match=r"shardproof.toml: not valid TOML: .*line 1"):
        load_project(tmp_path)
    _tree(tmp_path, {"shardproof.toml": 'app = "a"\n', "a/": "", "pyproject.toml": '[tool.shardproof]\napp = "a"\n'})
    with pytest.raises(ProjectError, match="all configure shardproof; keep one"):
        load_project(tmp_path)
    _tree(tmp_path / "t", {"pyproject.toml": '[tool]\nshardproof = "infra"\n'})
    with pytest.raises(ProjectError, match=r"\[tool.shardproof\] must be a table"):
        load_project(tmp_path / "t")


@pytest.mark.parametrize("files, new_name", [
    ({"harness.toml": 'template = "t.yaml"\n'}, "shardproof.toml"),
    ({"pyproject.toml": '[tool.harness]\ntemplate = "t.yaml"\n'}, "[tool.shardproof]"),
])
def test_the_former_names_are_read_with_a_note_saying_what_to_rename(tmp_path: Path, files: dict, new_name: str) -> None:
    _tree(tmp_path, {**files, "t.yaml": "Resources: {}\n"})
    with pytest.warns(LegacyProjectFileWarning, match=rf"former name and is still read; rename it to {re.escape(new_name)}"):
        project = load_project(tmp_path)
    assert project.source.kind == "template" and project.source.path == tmp_path / "t.yaml"


def test_a_new_and_a_former_project_file_side_by_side_is_refused(tmp_path: Path) -> None:
    _tree(tmp_path, {"shardproof.toml": 'template = "t.yaml"\n', "harness.toml": 'template = "t.yaml"\n',
                     "t.yaml": "Resources: {}\n"})
    with pytest.raises(ProjectError, match=r"shardproof.toml and .*harness.toml all configure shardproof; keep one"):
        load_project(tmp_path)


def test_without_a_project_file_a_sample_checkout_here_is_used(tmp_path: Path) -> None:
    _tree(tmp_path, {"infra/cdk.json": "{}", "lambdas/": ""})
    project = load_project(tmp_path)
    assert project.file is None and project.root == tmp_path
    assert project.source.kind == "app" and project.source.path == tmp_path / "infra"
    assert project.source.watch == (tmp_path / "lambdas",)  # checks.py does not exist here
    assert project.scenarios == tmp_path / "scenarios"


def test_without_a_project_file_or_a_sample_the_harness_checkout_is_used(tmp_path: Path) -> None:
    project = load_project(tmp_path)
    root = harness_checkout()
    assert project.file is None and project.root == root and project.source.path == root / "infra"
    assert project.source.watch == (root / "lambdas", root / "harness" / "failures" / "checks.py")


def test_this_repositorys_own_project_file() -> None:
    root = harness_checkout()
    project = load_project(root / "harness" / "deploy")
    assert project.file == root / "pyproject.toml"
    assert project.source.path == root / "infra" and project.scenarios == root / "scenarios"
    assert project.source.watch == (root / "lambdas", root / "harness" / "failures" / "checks.py")
