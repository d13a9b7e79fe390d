"""The pytest plugin's fixtures, used the way a project test would use them."""

from __future__ import annotations


import pytest

from _sample.orders import orders
from harness.esm import Backoff, EngineSettings

FAST = EngineSettings(backoff=Backoff(0.02, 2.0, 0.1))


@pytest.mark.timeout(120)
def test_fixtures_deploy_inject_and_read_failures(deployed_stack, injector, failure_records, journal,
                                                  shardproof_backend) -> None:
    pipe = deployed_stack({"batchSize": 10, "retryAttempts": 2, "bisect": True, "reportBatchItemFailures": False}, start_polling=False,
                          esm_settings=FAST)
    assert pipe.backend is shardproof_backend
    items = injector(orders(6, poison=[2], run="fixture"))
    pipe.start_polling()
    pipe.settle(timeout=60)
    listed = failure_records.list()
    assert [len(x.record.records) for x in listed] == [1]
    assert listed[0].record.records[0]["dynamodb"]["Keys"]["pk"]["S"] == items[2]["pk"]
    assert listed[0].record.envelope.requestContext.approximateInvokeCount == 3  # spec 0.2: retries + 1
    assert len(journal.entries("injected")) == 6
    assert journal.entries("destination_write")


def test_fixtures_refuse_use_before_deploy(injector, failure_records) -> None:
    with pytest.raises(RuntimeError, match="no stack deployed yet"):
        injector(orders(1))
    with pytest.raises(RuntimeError, match="failure_records: no stack deployed yet"):
        failure_records.list()
