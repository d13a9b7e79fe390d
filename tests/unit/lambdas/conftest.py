"""Fixtures for the deployable Lambdas: load their modules the way the Lambda runtime does
(function dir on sys.path, handler module `app`), and share one embedded backend per session."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

from harness.backends import get_backend

# importlib mode does not make this folder importable; the test modules import lambdas_testkit.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def backend() -> Iterator[object]:
    with get_backend("embedded") as b:
        yield b


@pytest.fixture()
def aws_env(backend, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Point boto3 (as the Lambda code creates it) at the embedded backend."""
    for name, value in backend.lambda_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return backend
