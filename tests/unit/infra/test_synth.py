"""synthesize(): caching, cache keys, and clear errors."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from harness.deploy.synth import SynthError, SynthResult, default_project_root, merged_context, source_hash, synthesize


def test_cold_synth_then_cache_hit(custom: SynthResult, custom_context: dict, synth_cache: Path) -> None:
    assert custom.cached is False
    began = time.perf_counter()
    again = synthesize(custom_context, cache_dir=synth_cache)
    elapsed = time.perf_counter() - began
    assert again.cached is True and again.template == custom.template and again.assembly_dir == custom.assembly_dir
    assert elapsed < 0.5, f"cache hit took {elapsed:.3f}s"
    assert (custom.assembly_dir / "manifest.json").is_file()
    assert not [p for p in synth_cache.iterdir() if p.name.startswith(".tmp-")]


def copy_project(tmp_path: Path) -> Path:
    root = default_project_root()
    from harness.deploy.synth import HASHED_DIRS  # everything synthesis reads

    for top in HASHED_DIRS:
        if (root / top).is_dir():
            shutil.copytree(root / top, tmp_path / top, ignore=shutil.ignore_patterns("__pycache__", "cdk.out"))
        else:
            (tmp_path / top).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / top, tmp_path / top)
    return tmp_path


def test_hash_covers_sources_and_context_but_not_bytecode(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    ctx = merged_context({"batchSize": 5}, root)
    base = source_hash(root, ctx)
    assert source_hash(root, merged_context({"batchSize": 6}, root)) != base
    (root / "lambdas" / "stream_consumer" / "__pycache__").mkdir()
    (root / "lambdas" / "stream_consumer" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"x")
    (root / "infra" / "cdk.out").mkdir()
    (root / "infra" / "cdk.out" / "junk.json").write_text("{}")
    assert source_hash(root, ctx) == base
    app = root / "lambdas" / "failure_handler" / "app.py"
    app.write_text(app.read_text() + "\n# edit\n")
    assert source_hash(root, ctx) != base


def test_cdk_json_context_is_merged_and_overridable() -> None:
    ctx = merged_context({"aws:cdk:version-reporting": True, "batchSize": 3}, default_project_root())
    assert ctx["aws:cdk:version-reporting"] is True and ctx["batchSize"] == 3
    assert merged_context(None, default_project_root())["aws:cdk:version-reporting"] is False


def test_invalid_context_is_a_clear_error(synth_cache: Path) -> None:
    with pytest.raises(SynthError) as err:
        synthesize({"batchSize": 0, "retryAttempts": "many"}, cache_dir=synth_cache)
    msg = str(err.value)
    assert "'batchSize'" in msg and "1..10000" in msg and "'retryAttempts'" in msg
    assert "Traceback" not in msg
    assert not [p for p in synth_cache.iterdir() if p.name.startswith(".tmp-")]


def test_unserializable_context_and_missing_app(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="'batchSize'.*not JSON-serializable"):
        synthesize({"batchSize": object()}, cache_dir=tmp_path)
    with pytest.raises(SynthError, match="no CDK app"):
        synthesize(None, project_root=tmp_path, cache_dir=tmp_path / "cache")
