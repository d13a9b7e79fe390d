"""pytest's stack-source options resolve a relative path against the folder pytest was started in,
as the CLI's `--app/--assembly/--template/--serverless` do, not against pytest's rootdir."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.deploy.sources import SourceSpec
from harness.pytest_plugin import _source_spec


def fake_config(rootdir: Path, started_in: Path, **options: str | None) -> SimpleNamespace:
    values = {f"shardproof_{k}": v for k, v in options.items()}
    return SimpleNamespace(rootpath=rootdir, invocation_params=SimpleNamespace(dir=started_in),
                           getoption=lambda name: values.get(name))


@pytest.mark.parametrize("kind", ["app", "assembly", "template", "serverless"])
def test_a_relative_source_path_is_relative_to_where_pytest_started(tmp_path: Path, kind: str) -> None:
    rootdir, here = tmp_path, tmp_path / "services" / "orders"
    project = SimpleNamespace(source=SourceSpec("app", rootdir / "infra"))
    spec = _source_spec(fake_config(rootdir, here, **{kind: "stack-src"}), project)
    assert spec.kind == kind and spec.path == (here / "stack-src").resolve()


def test_no_option_keeps_the_project_source_and_stack_alone_overrides_its_stack(tmp_path: Path) -> None:
    project = SimpleNamespace(source=SourceSpec("template", tmp_path / "t.yaml"))
    assert _source_spec(fake_config(tmp_path, tmp_path), project) == project.source
    assert _source_spec(fake_config(tmp_path, tmp_path, stack="Other"), project).stack == "Other"
