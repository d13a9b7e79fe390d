"""Fixtures for replay tests: an embedded backend per module, reset per test.

The helpers in replay_objects.py are made importable here because pytest runs with
--import-mode=importlib (test folders are not on sys.path)."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness.backends import get_backend  # noqa: E402
from replay_objects import BASE_TIME, BUCKET, TABLE  # noqa: E402


@pytest.fixture(scope="module")
def backend():
    with get_backend("embedded") as b:
        yield b


@pytest.fixture
def aws(backend):
    """A clean backend with the failure bucket and the source table."""
    backend.reset()
    s3 = backend.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    ddb = backend.client("dynamodb")
    ddb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    return backend


@pytest.fixture
def minutes():
    return lambda n: BASE_TIME + timedelta(minutes=n)
