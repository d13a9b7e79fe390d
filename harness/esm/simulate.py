"""`harness simulate`: the engine over an in-memory stream, a scripted handler and virtual time.

It is the oracle scenarios compare a backend against, so it runs the very same reader and
processor as EsmService; only the source, the invoker and the clock differ. Output is built
from the journal alone, the same way reports are.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import uuid as uuidlib
from typing import Any

from harness.esm.clock import VirtualClock
from harness.esm.config import Backoff, EngineSettings, parse_mapping
from harness.esm.destinations import InMemoryDestinations
from harness.esm.errors import EsmValidationError
from harness.esm.filtering import RecordFilter
from harness.esm.metrics import Metrics
from harness.esm.reader import FINISHED, ShardReader
from harness.esm.records import make_record, to_attribute_value
from harness.esm.sources.memory import MemoryStreamSource
from harness.invoke import InvokeResult
from harness.journal import Journal

DEFAULT_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/simulated/stream/2024-01-01T00:00:00.000"
DEFAULT_FUNCTION = "simulated-consumer"
SHARD_ID = "shardId-00000001700000000000-00000001"
MODES = ("raise", "partial", "partial-malformed", "timeout")
SEQ_BASE = 10**20  # 21-digit sequence numbers (spec 6: 21..40 characters)
MAX_RECORDS = 5_000_000


class SimulationSpecError(ValueError):
    """The simulate spec is wrong; the message names the field at fault."""


class ScriptedHandler:
    """The consumer function of a simulation. Implements the processor's in-process fast path
    (`invoke_event`) so no JSON is built per invocation."""

    def __init__(self, index_of: dict[str, int], fail: set[int], mode: str, fail_times: int | None) -> None:
        self.index_of = index_of
        self.fail = fail
        self.mode = mode
        self.fail_times = fail_times
        self.deliveries: dict[int, int] = {}
        self._n = 0

    def _failing(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        deliveries, fail, fail_times = self.deliveries, self.fail, self.fail_times
        for r in records:
            i = self.index_of[r["dynamodb"]["SequenceNumber"]]
            d = deliveries.get(i, 0) + 1
            deliveries[i] = d
            if i in fail and (fail_times is None or d <= fail_times):
                out.append(r)
        return out

    def invoke_event(self, function_name: str, event: dict[str, Any]) -> InvokeResult:
        self._n += 1
        rid = f"00000000-0000-4000-8000-{self._n:012d}"
        failing = self._failing(event["Records"])
        if self.mode == "raise" and failing:
            i = self.index_of[failing[0]["dynamodb"]["SequenceNumber"]]
            body = {"errorMessage": f"poison record {i}", "errorType": "PoisonRecord"}
            return InvokeResult(200, json.dumps(body).encode(), "Unhandled", rid)
        if self.mode == "timeout" and failing:
            body = {"errorMessage": "Task timed out after 3.00 seconds"}
            return InvokeResult(200, json.dumps(body).encode(), "Unhandled", rid)
        if self.mode == "partial":
            ids = [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in failing]
            return InvokeResult(200, json.dumps({"batchItemFailures": ids}).encode(), None, rid)
        if self.mode == "partial-malformed" and failing:
            return InvokeResult(200, b'{"batchItemFailures":[{"itemIdentifier":"123"}]}', None, rid)
        return InvokeResult(200, b"null", None, rid)

    def invoke(self, function_name: str, payload: bytes) -> InvokeResult:
        return self.invoke_event(function_name, json.loads(payload))


def _num(spec: dict[str, Any], key: str, where: str, default: float, lo: float = 0.0) -> float:
    v = spec.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < lo:
        raise SimulationSpecError(f"{where}.{key} must be a number >= {lo}, got {v!r}")
    return float(v)


def _records(spec: Any) -> list[dict[str, Any]]:
    if isinstance(spec, bool):
        raise SimulationSpecError("records must be a count or a list of items, got a boolean")
    if isinstance(spec, int):
        if not 0 <= spec <= MAX_RECORDS:
            raise SimulationSpecError(f"records must be between 0 and {MAX_RECORDS}, got {spec}")
        return [{"id": i} for i in range(spec)]
    if isinstance(spec, list):
        for i, item in enumerate(spec):
            if not isinstance(item, dict):
                raise SimulationSpecError(f"records[{i}] must be an object (a NewImage-like item), got {item!r}")
        if len(spec) > MAX_RECORDS:
            raise SimulationSpecError(f"records has more than {MAX_RECORDS} items")
        return spec
    raise SimulationSpecError(f"records must be a count or a list of items, got {type(spec).__name__}")


def _handler(spec: Any, n: int) -> tuple[set[int], str, int | None]:
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise SimulationSpecError("handler must be an object with fail, mode, fail_times")
    unknown = set(spec) - {"fail", "mode", "fail_times"}
    if unknown:
        raise SimulationSpecError(f"handler has unknown field(s): {', '.join(sorted(unknown))}")
    fail = spec.get("fail", [])
    if not isinstance(fail, list):
        raise SimulationSpecError("handler.fail must be a list of record indexes")
    for j, i in enumerate(fail):
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
            raise SimulationSpecError(f"handler.fail[{j}] = {i!r} is not a record index in 0..{n - 1}")
    mode = spec.get("mode", "raise")
    if mode not in MODES:
        raise SimulationSpecError(f"handler.mode must be one of {', '.join(MODES)}, got {mode!r}")
    ft = spec.get("fail_times")
    if ft is not None and (isinstance(ft, bool) or not isinstance(ft, int) or ft < 0):
        raise SimulationSpecError(f"handler.fail_times must be an integer >= 0, got {ft!r}")
    return set(fail), mode, ft


def _engine(spec: Any) -> EngineSettings:
    if spec is None:
        return EngineSettings()
    if not isinstance(spec, dict):
        raise SimulationSpecError("engine must be an object of engine settings")
    fields = {f.name for f in dataclasses.fields(EngineSettings)}
    kwargs: dict[str, Any] = {}
    for k, v in spec.items():
        if k not in fields:
            raise SimulationSpecError(f"engine.{k} is not an engine setting (known: {', '.join(sorted(fields))})")
        if k == "backoff":
            if not isinstance(v, dict) or set(v) - {"initial_s", "factor", "max_s"}:
                raise SimulationSpecError("engine.backoff must be {initial_s, factor, max_s}")
            kwargs[k] = Backoff(**{kk: _num(v, kk, "engine.backoff", 0) for kk in v})
        else:
            kwargs[k] = v
    return EngineSettings(**kwargs)


def run_simulation(spec: dict) -> dict:
    """Run one scripted scenario to the end of the stream; see the module doc for the shapes."""
    # A simulation allocates millions of small, long-lived dicts and frees nothing until the end;
    # the cyclic GC would rescan them over and over (half the run time at 100,000 records).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(spec)
    finally:
        if was_enabled:
            gc.enable()


def _run(spec: dict) -> dict:
    if not isinstance(spec, dict):
        raise SimulationSpecError("the simulate spec must be a JSON object")
    unknown = set(spec) - {"mapping", "records", "handler", "clock", "engine", "shards"}
    if unknown:
        raise SimulationSpecError(f"unknown top-level field(s): {', '.join(sorted(unknown))}")
    if spec.get("shards", 1) != 1:
        # UNFINISHED: multi-shard simulation (independent virtual time per shard) is not built.
        raise SimulationSpecError("shards: only 1 shard is supported by simulate yet")
    mapping_spec = spec.get("mapping", {})
    if not isinstance(mapping_spec, dict):
        raise SimulationSpecError("mapping must be an object of Lambda API parameters")
    params = {"EventSourceArn": DEFAULT_STREAM, "FunctionName": DEFAULT_FUNCTION,
              "StartingPosition": "TRIM_HORIZON", **mapping_spec}
    try:
        mapping = parse_mapping(params)
    except EsmValidationError as exc:
        raise SimulationSpecError(f"mapping: {exc}") from None
    items = _records(spec.get("records", 0))
    fail, mode, fail_times = _handler(spec.get("handler"), len(items))
    clock_spec = spec.get("clock") or {}
    if not isinstance(clock_spec, dict) or set(clock_spec) - {"start", "record_interval_s", "start_delay_s"}:
        raise SimulationSpecError("clock must be {start, record_interval_s, start_delay_s}")
    start = _num(clock_spec, "start", "clock", 1_700_000_000.0)
    interval = _num(clock_spec, "record_interval_s", "clock", 0.0)
    delay = _num(clock_spec, "start_delay_s", "clock", 0.0)
    settings = _engine(spec.get("engine"))

    clock = VirtualClock(start)
    arn = mapping.EventSourceArn
    region = arn.split(":")[3]
    source = MemoryStreamSource(arn, now=clock.now)
    source.add_shard(SHARD_ID)
    records = []
    index_of: dict[str, int] = {}
    for i, item in enumerate(items):
        sn = str(SEQ_BASE + i * 100)
        index_of[sn] = i
        try:
            image = {k: to_attribute_value(v) for k, v in item.items()}
        except ValueError as exc:
            raise SimulationSpecError(f"records[{i}]: {exc}") from None
        pk = f"item-{i}"
        # SizeBytes from the plain item (names + printed values): close to DynamoDB's rule, and
        # a fifth of the cost of walking the AttributeValue tree for 100,000 records.
        size = 2 + len(pk) + sum(len(k) + len(str(v)) for k, v in item.items())
        records.append(make_record(sequence_number=sn, arrival_s=start + i * interval, new_image=image,
                                   keys={"pk": {"S": pk}}, stream_arn=arn, region=region,
                                   event_id=f"{i + 1:032x}", size=size))
    source.append(SHARD_ID, records)
    source.close_shard(SHARD_ID)

    uuid = str(uuidlib.UUID(int=0xE5 << 100))
    journal = Journal()
    metrics = Metrics()
    destinations = InMemoryDestinations()
    handler = ScriptedHandler(index_of, fail, mode, fail_times)
    clock.advance_to(start + delay)
    reader = ShardReader(uuid=uuid, shard_id=SHARD_ID, mapping=mapping, settings=settings,
                         cursor=source.open(SHARD_ID, starting_position=mapping.StartingPosition),
                         invoker=handler, destinations=destinations, clock=clock, metrics=metrics,
                         journal=journal, record_filter=RecordFilter(mapping.Filters), sleep=clock.sleep)
    while True:
        state = reader.step()
        if state == FINISHED:
            break
        if state in ("idle", "waiting"):
            wakes = [w for w in (source.next_arrival(), reader.window_deadline()) if w is not None]
            if not wakes:
                break
            clock.advance_to(min(wakes))
    return _report(journal, index_of, metrics, clock.now() - start, mapping, mode)


def _report(journal: Journal, index_of: dict[str, int], metrics: Metrics, elapsed: float, mapping: Any,
            mode: str) -> dict:
    def idx(seqs: list[str] | None) -> list[int]:
        return [index_of[s] for s in seqs or ()]

    invocations, destination, processed, dropped, filtered, trimmed = [], [], [], [], [], []
    for e in journal.entries():
        kind = e["kind"]
        if kind == "invoke_result":
            inv = {"records": idx(e["sequence_numbers"]), "result": e["outcome"], "attempt": e["attempt"],
                   "request_id": e["request_id"]}
            if e.get("function_error"):
                inv["function_error"] = e["function_error"]
            if e.get("failed_sequence_numbers"):
                inv["failed"] = idx(e["failed_sequence_numbers"])
            invocations.append(inv)
            processed.extend(idx(e.get("committed_sequence_numbers")))
        elif kind == "destination_write":
            destination.append({"key": e["key"], "destination": e["destination"], "condition": e["condition"],
                                "records": idx(e["sequence_numbers"]), "envelope": e["envelope"]})
        elif kind == "dropped":
            (trimmed if e.get("condition") is None else dropped).extend(idx(e["sequence_numbers"]))
        elif kind == "filtered":
            filtered.extend(idx(e["sequence_numbers"]))
    discarded = sorted([i for d in destination for i in d["records"]] + dropped)
    warnings = []
    if mode.startswith("partial") and not mapping.report_batch_item_failures:
        warnings.append("handler.mode is partial but mapping.FunctionResponseTypes lacks ReportBatchItemFailures: "
                        "Lambda ignores the response (spec 2.2), so every batch succeeds")
    out = {
        "invocations": invocations,
        "destination": destination,
        "processed": sorted(processed),
        "discarded": discarded,
        "dropped": sorted(dropped),
        "filtered": sorted(filtered),
        "trimmed": sorted(trimmed),
        "metrics": metrics.snapshot(),
        "virtual_seconds": elapsed,
    }
    if warnings:
        out["warnings"] = warnings
    return out
