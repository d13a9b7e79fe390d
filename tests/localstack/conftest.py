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
import uuid
from typing import Callable, Iterator

import pytest

from harness.backends import BackendError
from harness.backends.floci import FlociBackend
from harness.backends.localstack import LocalStackBackend


def _attached(request: pytest.FixtureRequest, make: Callable[[float | None], LocalStackBackend], name: str,
              start: bool) -> Iterator[LocalStackBackend]:
    """The backend `make(timeout)` builds, started (attached, or a container when `start`); a short
    wait and a skip unless it was asked for by name or started here."""
    chosen = request.config.getoption("--backend") == name
    backend = make(None if (chosen or start) else 2.0)
    try:
        backend.start()
    except BackendError as exc:
        if chosen or start:
            raise
        pytest.skip(f"{exc} (or run with --backend {name} to make this a failure)")
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture(scope="session")
def localstack(request: pytest.FixtureRequest) -> Iterator[LocalStackBackend]:
    start = os.environ.get("HARNESS_LOCALSTACK_START") == "1"
    yield from _attached(request, lambda timeout: LocalStackBackend(start_container=start, timeout=timeout),
                         "localstack", start)


@pytest.fixture(scope="session")
def floci(request: pytest.FixtureRequest) -> Iterator[FlociBackend]:
    start = os.environ.get("HARNESS_FLOCI_START") == "1"
    yield from _attached(request, lambda timeout: FlociBackend(start_container=start, timeout=timeout), "floci", start)


def _stream_round_trip(backend: LocalStackBackend, prefix: str) -> None:
    """A table with a stream stores one item and its stream record reads back (then the table goes)."""
    ddb = backend.client("dynamodb")
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    desc = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    try:
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
        streams = backend.client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=desc["LatestStreamArn"])["StreamDescription"]["Shards"]
        iterator = streams.get_shard_iterator(
            StreamArn=desc["LatestStreamArn"], ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["a"]
    finally:
        ddb.delete_table(TableName=name)


def _run_canonical(backend: LocalStackBackend, monkeypatch: pytest.MonkeyPatch, *, name: str, url_env: str,
                  esm: str, scenario: str = "one-poison-bisect") -> dict:
    """Run one canonical scenario on `backend` and print every check (the fidelity record)."""
    from harness.scenarios import load_scenarios, run_scenario, select

    monkeypatch.setenv(url_env, backend.endpoint_url)
    [chosen] = select(load_scenarios(), [scenario])
    result = run_scenario(chosen, backend=name, esm=esm, settle_timeout=300)
    for c in result["checks"]:
        print(f"[{'PASS' if c['passed'] else 'FAIL'}] ({c['spec']}) {c['name']}: expected {c['expected']!r}, "
              f"observed {c['observed']!r}")
    return result


@pytest.fixture(scope="session")
def stream_round_trip() -> Callable[[LocalStackBackend, str], None]:
    """The stream round trip both emulators' health tests make (a function: conftest is not importable)."""
    return _stream_round_trip


@pytest.fixture(scope="session")
def run_canonical() -> Callable[..., dict]:
    """Runs a canonical scenario on an emulator and prints its checks (see _run_canonical)."""
    return _run_canonical
