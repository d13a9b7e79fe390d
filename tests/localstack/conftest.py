"""Fixtures for tests that need a real LocalStack (marked `docker`; they skip where no engine answers).

Attach to the LocalStack at HARNESS_LOCALSTACK_URL (default http://127.0.0.1:4566, as started by
`docker compose up -d localstack`); with HARNESS_LOCALSTACK_START=1, start one with testcontainers.

A Docker engine alone does not mean LocalStack is up (CI's `make test` job has an engine and no
LocalStack). So: with `--backend localstack` a LocalStack that does not answer is a failure;
with any other backend these tests skip, saying how to run them.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from harness.backends import BackendError
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


@pytest.fixture
def demo_on_localstack(localstack: LocalStackBackend):  # type: ignore[no-untyped-def]
    """`demo_on_localstack(esm, journal_path)` -> (checks, facts): see run_demo_checks."""
    return lambda esm, journal_path, timeout=300.0: run_demo_checks(localstack, esm, journal_path, timeout)


def run_demo_checks(localstack: LocalStackBackend, esm: str, journal_path: "os.PathLike[str]",
                    timeout: float = 300.0) -> tuple[list, dict]:
    """Deploy the stack into LocalStack through LocalPipeline and judge it with the demo's own checks.

    A fresh attached backend object, so the pipeline's stop() never stops the session's LocalStack
    (a container started by the session fixture belongs to that fixture). A per-run stack name,
    so function names never collide with an earlier run on a long-lived LocalStack.
    """
    import uuid

    from harness.demo import DEMO_CONTEXT, GOOD_COUNT, POISON_INDEX, _judge, _observe, _subscribe_alert_inbox
    from harness.injector import orders
    from harness.pipeline import LocalPipeline

    backend = LocalStackBackend(url=localstack.endpoint_url, region=localstack.region)
    context = {**DEMO_CONTEXT, "stackName": f"LsDemo-{esm}-{uuid.uuid4().hex[:6]}"}
    with LocalPipeline(backend, esm=esm, journal_path=journal_path) as pipe:
        pipe.deploy(context, start_polling=False)
        inbox_url = _subscribe_alert_inbox(pipe)
        items = orders(GOOD_COUNT + 1, poison=[POISON_INDEX], run=context["stackName"])
        pipe.inject(items)
        pipe.start_polling()
        pipe.settle(timeout=timeout)
        facts = _observe(pipe, inbox_url)
        poison = items[POISON_INDEX]["pk"]
        checks = _judge(facts, poison_pk=poison, good_pks=[i["pk"] for i in items if i["pk"] != poison],
                        injected=len(items))
    return checks, facts
