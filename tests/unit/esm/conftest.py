"""Helpers: run the real reader/processor over an in-memory shard on virtual time, with any
invoke function, and read the outcome back from the journal."""

from __future__ import annotations

import json
from types import SimpleNamespace
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from harness.esm.clock import VirtualClock
from harness.esm.config import EngineSettings, parse_mapping
from harness.esm.destinations import InMemoryDestinations
from harness.esm.filtering import RecordFilter
from harness.esm.metrics import Metrics
from harness.esm.reader_choice import make_reader
from harness.esm.shard_reader import FINISHED
from harness.esm.records import make_record
from harness.esm.sources.memory import MemoryStreamSource
from harness.invoke import InvokeResult
from harness.journal import Journal

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-06-10T19:26:16.525"
SHARD = "shardId-00000001573689847184-864758bb"
START = 1_700_000_000.0


def seq_of(i: int) -> str:
    return str(10**20 + i)


def index_of(s: str) -> int:
    return int(s) - 10**20


@dataclass
class Run:
    journal: Journal
    dest: InMemoryDestinations
    metrics: dict[str, float]
    calls: list[list[int]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    clock: VirtualClock | None = None
    reader: Any = None

    def deliveries(self) -> list[dict[str, Any]]:
        return [json.loads(d.body) for d in self.dest.deliveries]


def make_records(n: int, *, start: float = START, interval: float = 0.0, images: list[dict] | None = None,
                 keys: Callable[[int], str] | None = None) -> list[dict]:
    out = []
    for i in range(n):
        img = images[i] if images else {"id": {"N": str(i)}}
        out.append(make_record(sequence_number=seq_of(i), arrival_s=start + i * interval, new_image=img,
                               keys={"pk": {"S": keys(i) if keys else f"k{i}"}}, stream_arn=STREAM, region="us-east-1",
                               event_id=f"{i:032x}"))
    return out


def run_engine(params: dict[str, Any], n: int, respond: Callable[[list[int], int], InvokeResult | Exception], *,
               settings: EngineSettings | None = None, interval: float = 0.0, delay: float = 0.0,
               images: list[dict] | None = None, destinations: InMemoryDestinations | None = None,
               keys: Callable[[int], str] | None = None, close: bool = True, blocking: bool = True) -> Run:
    """`respond(indexes, call_number)` returns the InvokeResult (or raises) for each invocation;
    `respond.events` (if the attribute exists) collects the full events (tumbling windows)."""
    cfg = parse_mapping({"EventSourceArn": STREAM, "FunctionName": "fn", "StartingPosition": "TRIM_HORIZON", **params})
    clock = VirtualClock(START)
    src = MemoryStreamSource(STREAM, now=clock.now)
    src.add_shard(SHARD)
    src.append(SHARD, make_records(n, interval=interval, images=images, keys=keys))
    if close:
        src.close_shard(SHARD)
    clock.advance_to(START + delay)
    journal, metrics = Journal(), Metrics()
    dest = destinations if destinations is not None else InMemoryDestinations()
    run = Run(journal, dest, {}, clock=clock)

    class Inv:
        def invoke(self, name: str, payload: bytes) -> InvokeResult:
            event = json.loads(payload)
            idx = [index_of(r["dynamodb"]["SequenceNumber"]) for r in event["Records"]]
            run.calls.append(idx)
            run.events.append(event)
            out = respond(idx, len(run.calls))
            if isinstance(out, Exception):
                raise out
            return out

    reader = make_reader(uuid="11111111-2222-3333-4444-555555555555", shard_id=SHARD, mapping=cfg,
                         settings=settings or EngineSettings(), cursor=src.open(SHARD, starting_position="TRIM_HORIZON"),
                         invoker=Inv(), destinations=dest, clock=clock, metrics=metrics, journal=journal,
                         record_filter=RecordFilter(cfg.Filters), sleep=clock.sleep, blocking=blocking)
    run.reader = reader
    for _ in range(1_000_000):
        state = reader.step()
        if state == FINISHED:
            break
        if state in ("idle", "waiting"):
            wakes = [w for w in (src.next_arrival(), reader.next_wake()) if w is not None and w > clock.now()]
            if not close and not wakes:
                break  # an open shard never finishes; stop once nothing is due
            assert wakes, "engine idle with nothing left to wait for"
            clock.advance_to(min(wakes))
    run.metrics = metrics.snapshot()
    return run


def ok(payload: Any = None) -> InvokeResult:
    return InvokeResult(200, json.dumps(payload).encode(), None, "req")


def unhandled() -> InvokeResult:
    return InvokeResult(200, b'{"errorMessage":"boom"}', "Unhandled", "req")


@pytest.fixture
def h() -> SimpleNamespace:
    """Test files reach the helpers through this fixture (importlib mode: no conftest imports)."""
    return SimpleNamespace(run=run_engine, ok=ok, unhandled=unhandled, seq_of=seq_of, index_of=index_of,
                           make_records=make_records, STREAM=STREAM, SHARD=SHARD, START=START)
