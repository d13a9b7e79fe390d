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


class Slow:
    """A function that takes `seconds` per invoke, records what overlapped, and fails items in `poison`."""

    def __init__(self, seconds: float, poison: set[str] | None = None, raise_first: bool = False) -> None:
        import threading

        self.seconds = seconds
        self.poison = poison or set()
        self.raise_first = raise_first
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0
        self.started: list[list[tuple[str, int]]] = []  # per invoke, in start order: (key, seq offset)

    def invoke(self, name: str, payload: bytes) -> InvokeResult:
        recs = [(r["dynamodb"]["Keys"]["pk"]["S"], int(r["dynamodb"]["SequenceNumber"]) - 10**20)
                for r in json.loads(payload)["Records"]]
        with self.lock:
            if self.raise_first:
                self.raise_first = False
                raise RuntimeError("harness-level invoke failure (not a function error)")
            self.started.append(recs)
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        try:
            time.sleep(self.seconds)
        finally:
            with self.lock:
                self.running -= 1
        if any(k in self.poison for k, _ in recs):
            return InvokeResult(200, b'{"errorMessage": "poison"}', "Unhandled", "r")
        return InvokeResult(200, b"null", None, "r")


def _run_to_end(svc) -> None:  # type: ignore[no-untyped-def]
    svc.start()
    try:
        svc.drain(timeout=20)
    finally:
        svc.stop()


def _lane_service(inv, journal, n: int, keys: int, dest=None, **mapping):  # type: ignore[no-untyped-def]
    src = MemoryStreamSource(STREAM)
    src.add_shard("shardId-1")
    src.append("shardId-1", [make_record(sequence_number=str(10**20 + i), arrival_s=time.time(), new_image={},
                                         keys={"pk": {"S": f"k{i % keys}"}}, stream_arn=STREAM, region="us-east-1",
                                         event_id=str(i)) for i in range(n)])
    src.close_shard("shardId-1")
    dest = dest if dest is not None else InMemoryDestinations()
    svc = EsmService(streams_client=None, invoker=inv, destinations=dest, journal=journal,
                     poll_interval_s=0.01, source_factory=lambda arn: src)
    svc.create_event_source_mapping(EventSourceArn=STREAM, FunctionName="fn", StartingPosition="TRIM_HORIZON",
                                    **mapping)
    return svc, dest


def test_parallelization_factor_runs_lane_invokes_concurrently_in_order_per_item_spec_1_and_7_1():
    """Spec 7.1 / 1: up to ParallelizationFactor batches of a shard in flight, in order per item key."""
    inv, journal = Slow(0.15), Journal()
    svc, _ = _lane_service(inv, journal, n=48, keys=16, BatchSize=3, ParallelizationFactor=4)
    _run_to_end(svc)
    assert not journal.entries("reader_error")
    assert inv.max_running >= 2, "lane invokes never overlapped"
    assert inv.max_running <= 4  # never more than ParallelizationFactor for one shard
    per_key: dict[str, list[int]] = {}
    for batch in inv.started:
        for key, seq in batch:
            per_key.setdefault(key, []).append(seq)
    assert all(seqs == sorted(seqs) for seqs in per_key.values()), per_key
    assert sorted(s for seqs in per_key.values() for s in seqs) == list(range(48))
    assert journal.entries("checkpoint")[-1]["sequence_number"] == str(10**20 + 47)


def test_concurrent_lanes_a_poison_key_exhausts_only_its_lane_batch_spec_1_and_3():
    """Spec 1 (retries, then the on-failure destination) per lane batch, while other lanes keep going."""
    inv, journal = Slow(0.02, poison={"k3"}), Journal()
    svc, dest = _lane_service(inv, journal, n=24, keys=8, BatchSize=1, ParallelizationFactor=3,
                              MaximumRetryAttempts=1,
                              DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}})
    _run_to_end(svc)
    failed = sorted(int(s) - 10**20 for w in journal.entries("destination_write") for s in w["sequence_numbers"])
    assert failed == [3, 11, 19]  # exactly the poison key's records, each after 1 + 1 retry
    assert sum(1 for b in inv.started if b[0][0] == "k3") == 6
    ok = sorted(seq for b in inv.started for k, seq in b if k != "k3")
    assert ok == [i for i in range(24) if i % 8 != 3]
    assert journal.entries("checkpoint")[-1]["sequence_number"] == str(10**20 + 23)


class _FlakyDestinations(InMemoryDestinations):
    """The first delivery raises an unexpected error (not a DestinationDeliveryError): it escapes the processor."""

    def __init__(self) -> None:
        super().__init__()
        self.raised = False

    def deliver(self, failure):  # type: ignore[no-untyped-def]
        if not self.raised:
            self.raised = True
            raise RuntimeError("unexpected error inside a lane thread")
        return super().deliver(failure)


def test_an_error_escaping_a_lane_thread_rewinds_to_the_checkpoint_and_loses_nothing():
    """An unexpected error in a lane's thread surfaces as reader_error and the shard is read again
    from its checkpoint: at least once, nothing skipped (spec 1, spec 3)."""
    inv, journal = Slow(0.01, poison={"k2"}), Journal()
    flaky = _FlakyDestinations()
    svc, _ = _lane_service(inv, journal, n=20, keys=5, dest=flaky, BatchSize=1, ParallelizationFactor=2,
                           MaximumRetryAttempts=0,
                           DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}})
    _run_to_end(svc)
    assert flaky.raised
    assert any("unexpected error inside a lane thread" in e["error"] for e in journal.entries("reader_error"))
    failed = sorted(int(s) - 10**20 for w in journal.entries("destination_write") for s in w["sequence_numbers"])
    assert set(failed) == {2, 7, 12, 17}
    delivered = {seq for b in inv.started for _, seq in b}
    assert delivered == set(range(20))
    assert journal.entries("checkpoint")[-1]["sequence_number"] == str(10**20 + 19)
