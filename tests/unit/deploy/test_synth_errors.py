"""A CDK app that exits 0 without a usable cloud assembly is a SynthError naming what is missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.deploy.synth import SynthError, synthesize


def _project(tmp_path: Path, app: str) -> Path:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "app.py").write_text(app)
    return tmp_path


def test_an_app_that_never_synthesizes_is_named(tmp_path: Path) -> None:
    root = _project(tmp_path, "print('forgot app.synth()')\n")
    with pytest.raises(SynthError, match=r"wrote no cloud assembly .*manifest.json is missing.*app.synth\(\)"):
        synthesize(project_root=root, cache_dir=tmp_path / "cache")
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []  # no half entry left behind


def test_a_stack_artifact_without_template_file_is_named(tmp_path: Path) -> None:
    manifest = {"artifacts": {"Odd": {"type": "aws:cloudformation:stack", "properties": {}}}}
    app = ("import json, os, pathlib\n"
           "out = pathlib.Path(os.environ['CDK_OUTDIR']); out.mkdir(parents=True)\n"
           f"(out / 'manifest.json').write_text({json.dumps(json.dumps(manifest))})\n")
    root = _project(tmp_path, app)
    with pytest.raises(SynthError, match="stack Odd in the cloud assembly .* names no templateFile"):
        synthesize(project_root=root, cache_dir=tmp_path / "cache")
