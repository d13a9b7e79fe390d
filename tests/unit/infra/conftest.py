"""Synthesis is slow (node + jsii): each context is synthesized once per test session."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from harness.deploy.synth import SynthResult, synthesize

CUSTOM_CONTEXT: dict[str, Any] = {
    "stackName": "TestPipeline",
    "batchSize": 25,
    "retryAttempts": 3,
    "bisect": True,
    "maxRecordAgeSeconds": 600,
    "reportBatchItemFailures": True,
    "parallelizationFactor": 2,
}


@pytest.fixture()
def custom_context() -> dict[str, Any]:
    return dict(CUSTOM_CONTEXT)


@pytest.fixture(scope="session")
def synth_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("synth-cache")


@pytest.fixture(scope="session")
def custom(synth_cache: Path) -> SynthResult:
    """A cold synth (fresh cache dir) with every ESM setting away from its default."""
    began = time.perf_counter()
    result = synthesize(dict(CUSTOM_CONTEXT), cache_dir=synth_cache)
    print(f"\ncold synth: {time.perf_counter() - began:.2f}s")
    return result


@pytest.fixture(scope="session")
def default(synth_cache: Path) -> SynthResult:
    return synthesize(None, cache_dir=synth_cache)
