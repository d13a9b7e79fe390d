"""Record normalisation (spec 6), memory source, shard lineage (spec 8)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest

from harness.esm import EsmService
from harness.esm.records import normalise
from harness.esm.sources import ShardInfo, parent_first
from harness.esm.sources.memory import MemoryStreamSource
from harness.invoke import InvokeResult


def test_spec6_normalise_moto_record():
    raw = {"eventID": "e1", "eventName": "INSERT", "eventSource": "aws:dynamodb", "eventVersion": "1.0",
           "awsRegion": "us-east-1",
           "dynamodb": {"StreamViewType": "NEW_IMAGE", "SequenceNumber": "1100000000017454423009", "SizeBytes": 9,
                        "Keys": {"pk": {"S": "a"}},
                        "ApproximateCreationDateTime": dt.datetime(2024, 1, 1, 0, 0, 1, 900000, tzinfo=dt.timezone.utc),
                        "NewImage": {"pk": {"S": "a"}}}}
    rec = normalise(raw, "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/x", "us-east-1")
    assert list(rec) == ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"]
    assert rec["eventVersion"] == "1.1"
    assert rec["dynamodb"]["ApproximateCreationDateTime"] == 1704067201  # rounded down
    assert rec["eventSourceARN"].endswith("/stream/x")
    json.dumps(rec)  # JSON-serialisable (no datetime left)


def test_spec6_naive_datetime_is_utc_and_ttl_identity_kept():
    raw = {"eventID": "e", "eventName": "REMOVE", "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
           "dynamodb": {"SequenceNumber": "1" * 21, "ApproximateCreationDateTime": dt.datetime(2024, 1, 1)}}
    rec = normalise(raw, "arn", "eu-west-1")
    assert rec["dynamodb"]["ApproximateCreationDateTime"] == 1704067200
    assert rec["awsRegion"] == "eu-west-1" and rec["userIdentity"]["type"] == "Service"


def test_spec8_parent_before_child_regardless_of_listing_order():
    shards = [ShardInfo("c2", "c1", False), ShardInfo("c1", "p", True), ShardInfo("x", None, False), ShardInfo("p", None, True)]
    order = [s.shard_id for s in parent_first(shards)]
    assert order.index("p") < order.index("c1") < order.index("c2")


def test_spec8_service_reads_child_only_after_parent_is_finished(h):
    """Through EsmService (threads, real clock) with an in-memory source: parent's records first."""
    src = MemoryStreamSource(h.STREAM)
    src.add_shard("child", parent_shard_id="parent")
    src.add_shard("parent")
    recs = h.make_records(4, start=time.time())  # real clock: older records would be past retention
    src.append("parent", recs[:2])
    src.close_shard("parent")
    src.append("child", recs[2:])
    seen: list[int] = []
    lock = threading.Lock()

    class Inv:
        def invoke(self, name, payload):
            with lock:
                seen.extend(h.index_of(r["dynamodb"]["SequenceNumber"]) for r in json.loads(payload)["Records"])
            return InvokeResult(200, b"null", None, "r")

    svc = EsmService(streams_client=None, invoker=Inv(), destinations=None, poll_interval_s=0.02,
                     source_factory=lambda arn: src)
    svc.create_event_source_mapping(EventSourceArn=h.STREAM, FunctionName="fn", StartingPosition="TRIM_HORIZON", BatchSize=1)
    svc.start()
    try:
        svc.drain(timeout=10)
    finally:
        svc.stop()
    assert seen == [0, 1, 2, 3]
    assert svc.metrics()["PolledEventCount"] == 4


def test_memory_source_rejects_out_of_order_sequence_numbers(h):
    src = MemoryStreamSource(h.STREAM)
    src.add_shard("s")
    recs = h.make_records(2)
    src.append("s", [recs[1]])
    with pytest.raises(ValueError, match="not after"):
        src.append("s", [recs[0]])


def test_spec7_1_batching_window_waits_for_more_records(h):
    """Records arrive 1 s apart; a 5 s window collects several per batch instead of one."""
    run = h.run({"BatchSize": 10, "MaximumBatchingWindowInSeconds": 5}, 12, lambda idx, c: h.ok(), interval=1.0)
    assert all(len(c) > 1 for c in run.calls) and sum(map(len, run.calls)) == 12
    assert len(run.calls) <= 3
    run0 = h.run({"BatchSize": 10}, 3, lambda idx, c: h.ok(), interval=1.0)
    assert run0.calls == [[0], [1], [2]]


def test_spec5_batch_closes_at_the_6mb_payload_cap(h):
    big = [{"blob": {"S": "x" * 400_000}} for _ in range(20)]
    run = h.run({"BatchSize": 100}, 20, lambda idx, c: h.ok(), images=big)
    assert len(run.calls) == 2 and all(len(c) <= 15 for c in run.calls)


def test_stop_and_delete_do_not_wait_out_a_retry_backoff(h):
    from harness.esm.config import Backoff

    src = MemoryStreamSource(h.STREAM)
    src.add_shard("s")
    src.append("s", h.make_records(1, start=time.time()))

    class Failing:
        def invoke(self, name, payload):
            return InvokeResult(200, b"{}", "Unhandled", "r")

    svc = EsmService(streams_client=None, invoker=Failing(), destinations=None, poll_interval_s=0.02,
                     backoff=Backoff(30, 1, 30), source_factory=lambda arn: src)
    uuid = svc.create_event_source_mapping(EventSourceArn=h.STREAM, FunctionName="fn", StartingPosition="TRIM_HORIZON")["UUID"]
    svc.start()
    try:
        with pytest.raises(TimeoutError, match="batch in flight or retrying"):
            svc.drain(timeout=0.3)
        began = time.monotonic()
        svc.delete_event_source_mapping(uuid)
        assert time.monotonic() - began < 2
    finally:
        began = time.monotonic()
        svc.stop()
        assert time.monotonic() - began < 2
