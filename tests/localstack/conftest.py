"""Fixtures for tests that need a real LocalStack (marked `docker`; they skip where no engine answers).

Attach to the LocalStack at HARNESS_LOCALSTACK_URL (default http://127.0.0.1:4566, as started by
`docker compose up -d localstack`); with HARNESS_LOCALSTACK_START=1, start one with testcontainers.

A Docker engine alone does not mean LocalStack is up (CI's `make test` job has an engine and no
LocalStack). So: with `--backend localstack` a LocalStack that does not answer is a failure;
with any other backend these tests skip, saying how to run them.

The `floci` fixture does the same for Floci (HARNESS_FLOCI_URL, default http://127.0.0.1:4567, as
started by `docker compose --profile floci up -d floci`; HARNESS_FLOCI_START=1 to start one).
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from harness.backends import BackendError
from harness.backends.floci import FlociBackend
from harness.backends.localstack import LocalStackBackend


@pytest.fixture(scope="session")
def localstack(request: pytest.FixtureRequest) -> Iterator[LocalStackBackend]:
    start = os.environ.get("HARNESS_LOCALSTACK_START") == "1"
    chosen = request.config.getoption("--backend") == "localstack"
    backend = LocalStackBackend(start_container=start, timeout=None if (chosen or start) else 2.0)
    try:
        backend.start()
    except BackendError as exc:
        if chosen or start:
            raise
        pytest.skip(f"{exc} (or run with --backend localstack to make this a failure)")
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture(scope="session")
def floci(request: pytest.FixtureRequest) -> Iterator[FlociBackend]:
    start = os.environ.get("HARNESS_FLOCI_START") == "1"
    chosen = request.config.getoption("--backend") == "floci"
    backend = FlociBackend(start_container=start, timeout=None if (chosen or start) else 2.0)
    try:
        backend.start()
    except BackendError as exc:
        if chosen or start:
            raise
        pytest.skip(f"{exc} (or run with --backend floci to make this a failure)")
    try:
        yield backend
    finally:
        backend.stop()
