"""The project file: discovery, harness.toml and [tool.harness], every bad key, and the fallback."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.project import Project, ProjectError, harness_checkout, load_project


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
    return root


def test_harness_toml_is_found_from_a_subfolder_and_its_paths_are_its_own(tmp_path: Path) -> None:
    _tree(tmp_path, {"harness.toml": 'app = "cdk"\nstack = "Orders"\nwatch = ["src", "shared.py"]\n',
                     "cdk/cdk.json": "{}", "src/": "", "shared.py": "", "deep/er/": ""})
    project = load_project(tmp_path / "deep" / "er")
    assert project == Project(root=tmp_path, file=tmp_path / "harness.toml",
                              source=project.source, scenarios=tmp_path / "scenarios")
    assert (project.source.kind, project.source.path, project.source.stack) == ("app", tmp_path / "cdk", "Orders")
    assert project.source.watch == (tmp_path / "src", tmp_path / "shared.py")


def test_pyproject_tool_harness(tmp_path: Path) -> None:
    _tree(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n\n[tool.harness]\ntemplate = "sam/template.yaml"\n'
                                       'scenarios = "checks"\n',
                     "sam/template.yaml": "Resources: {}\n", "checks/": ""})
    project = load_project(tmp_path)
    assert project.file == tmp_path / "pyproject.toml"
    assert (project.source.kind, project.source.path) == ("template", tmp_path / "sam" / "template.yaml")
    assert project.scenarios == tmp_path / "checks"


def test_a_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    _tree(tmp_path, {"harness.toml": 'assembly = "cdk.out"\n', "cdk.out/": "",
                     "pkg/pyproject.toml": '[project]\nname = "pkg"\n'})
    project = load_project(tmp_path / "pkg")
    assert project.file == tmp_path / "harness.toml" and project.source.kind == "assembly"


def test_the_nearest_project_file_wins(tmp_path: Path) -> None:
    _tree(tmp_path, {"harness.toml": 'assembly = "out"\n', "out/": "",
                     "inner/harness.toml": 'assembly = "out2"\n', "inner/out2/": ""})
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
    _tree(tmp_path, {"harness.toml": text, "a/cdk.json": "{}", "t.yaml": "Resources: {}\n", "src/": ""})
    with pytest.raises(ProjectError) as err:
        load_project(tmp_path)
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path / 'harness.toml'}: key '{key}'") and problem in msg


def test_a_pyproject_key_is_named_with_its_table(tmp_path: Path) -> None:
    _tree(tmp_path, {"pyproject.toml": '[tool.harness]\napp = "gone"\n'})
    with pytest.raises(ProjectError, match=r"pyproject.toml: key 'tool.harness.app': .* does not exist"):
        load_project(tmp_path)


def test_files_that_cannot_be_used(tmp_path: Path) -> None:
    _tree(tmp_path, {"harness.toml": 'stack = "x"\n'})
    with pytest.raises(ProjectError, match="harness.toml: no stack source; set exactly one of the keys 'app'"):
        load_project(tmp_path)
    _tree(tmp_path, {"harness.toml": 'app = "a\n'})
    with pytest.raises(ProjectError, match=r"harness.toml: not valid TOML: .*line 1"):
        load_project(tmp_path)
    _tree(tmp_path, {"harness.toml": 'app = "a"\n', "a/": "", "pyproject.toml": '[tool.harness]\napp = "a"\n'})
    with pytest.raises(ProjectError, match="both configure the harness; keep one"):
        load_project(tmp_path)
    _tree(tmp_path / "t", {"pyproject.toml": '[tool]\nharness = "infra"\n'})
    with pytest.raises(ProjectError, match=r"\[tool.harness\] must be a table"):
        load_project(tmp_path / "t")


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
