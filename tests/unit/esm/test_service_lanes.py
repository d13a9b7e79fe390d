"""EsmService runs the lane and window readers too (in-memory stream, real clock threads)."""

from __future__ import annotations

import json
import time

import pytest

from harness.esm import EsmService, InMemoryDestinations
from harness.esm.records import make_record
from harness.esm.sources.memory import MemoryStreamSource
from harness.invoke import InvokeResult
from harness.journal import Journal

pytestmark = pytest.mark.timeout(30)
STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-06-10T19:26:16.525"


class Echo:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def invoke(self, name: str, payload: bytes) -> InvokeResult:
        ev = json.loads(payload)
        self.events.append(ev)
        body = {"state": ev["state"]} if "window" in ev else None
        return InvokeResult(200, json.dumps(body).encode(), None, "r")


@pytest.mark.parametrize("extra", [{}, {"ParallelizationFactor": 3}, {"TumblingWindowInSeconds": 60}])
def test_service_drains_lanes_and_windows(extra):
    src = MemoryStreamSource(STREAM)
    src.add_shard("shardId-1")
    src.append("shardId-1", [make_record(sequence_number=str(10**20 + i), arrival_s=time.time(), new_image={},
                                         keys={"pk": {"S": f"k{i % 5}"}}, stream_arn=STREAM, region="us-east-1",
                                         event_id=str(i)) for i in range(30)])
    src.close_shard("shardId-1")
    inv, journal = Echo(), Journal()
    svc = EsmService(streams_client=None, invoker=inv, destinations=InMemoryDestinations(), journal=journal,
                     poll_interval_s=0.01, source_factory=lambda arn: src)
    svc.create_event_source_mapping(EventSourceArn=STREAM, FunctionName="fn", StartingPosition="TRIM_HORIZON",
                                    BatchSize=4, **extra)
    svc.start()
    try:
        svc.drain(timeout=10)
    finally:
        svc.stop()
    assert not journal.entries("reader_error"), journal.entries("reader_error")[:1]
    got = sorted(int(r["dynamodb"]["SequenceNumber"]) - 10**20 for ev in inv.events for r in ev["Records"])
    assert got == list(range(30))
    assert journal.entries("checkpoint")[-1]["sequence_number"] == str(10**20 + 29)
    if "TumblingWindowInSeconds" in extra:
        assert inv.events[-1]["isFinalInvokeForWindow"] and inv.events[-1]["isWindowTerminatedEarly"]
