"""Fixtures for tests that need a real LocalStack (marked `docker`; they skip where no engine answers).

Attach to the LocalStack at HARNESS_LOCALSTACK_URL (default http://127.0.0.1:4566, as started by
`docker compose up -d localstack`); with HARNESS_LOCALSTACK_START=1, start one with testcontainers.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from harness.backends.localstack import LocalStackBackend


@pytest.fixture(scope="session")
def localstack() -> Iterator[LocalStackBackend]:
    backend = LocalStackBackend(start_container=os.environ.get("HARNESS_LOCALSTACK_START") == "1")
    with backend:
        yield backend
