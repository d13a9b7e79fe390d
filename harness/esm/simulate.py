"""`shardproof simulate`: the engine over an in-memory stream, a scripted handler and virtual time.

It is the oracle scenarios compare a backend against, so it runs the very same reader and
processor as EsmService; only the source, the invoker and the clock differ. Output is built
from the journal alone, the same way reports are.

The stream kind (spec 10):
- `source`: "dynamodb" (default) or "kinesis". A Kinesis simulation emits Kinesis event records
  (`kinesis.{kinesisSchemaVersion, partitionKey, sequenceNumber (56 digits, like AWS's), data
  (base64), approximateArrivalTimestamp}`, eventID `<shardId>:<sequenceNumber>`) and
  KinesisBatchInfo envelopes; the default stream is `DEFAULT_KINESIS_STREAM`, shards are named
  like AWS's (`shardId-000000000000`), and `mapping` may use AT_TIMESTAMP with
  StartingPositionTimestamp and filters on `data`.
- `records` for Kinesis: a count (record i: partitionKey `item-{i % keys}` or `item-{i}`, data
  `{"id": i}`), or a list of `{"partitionKey": str, "data": <a string, sent as its UTF-8 bytes, or
  any other JSON value, sent as its JSON text>}`, optionally with `$shard`.

Replaying what a real stream held (Python only): `run_simulation(spec, stream_records=[...])`
takes the Lambda-shaped records of either kind exactly as the backend delivered them (sequence
numbers, arrival times, keys, images or data) and runs the engine over those instead of
generating records. Then:
- indexes in the output (and in `handler.fail`) are positions in that list;
- `spec["records"]` must be absent or equal to the list's length; `clock.record_interval_s` must
  be absent (the records carry their arrival times); `clock.start` defaults to the earliest
  arrival;
- the kind is the records' (`source`, if given, must agree), and the mapping's EventSourceArn
  defaults to the first record's eventSourceARN;
- shards: a Kinesis record goes to the shard its eventID names; without `shards`, the shards are
  the distinct shard IDs of the eventIDs, in order of appearance. Other records (DynamoDB's
  eventID names no shard) go to one shard, or are routed by item key among `shards` as usual;
- eventIDs must be unique; within a shard, sequence numbers must increase and arrival times must
  not go back, as on any stream.

Input additions for lanes, windows and shards:
- `mapping.ParallelizationFactor`, `mapping.TumblingWindowInSeconds` as in the Lambda API;
- `keys`: with `records` as a count, the number of distinct item keys (record i gets key
  `item-{i % keys}`); default: every record its own key;
- a record item may carry `$key` (its partition key value) and `$shard` (shard index or ID);
  `$`-prefixed fields are not part of the image;
- `shards`: a count (independent shards), or a list of `{"id"?: str, "parent"?: index or ID}`
  for lineage (spec 8: a child shard is read only after its parent is finished). Records
  without `$shard` go to shard `crc32(key) % count` among the shards without children;
- `handler.aggregate` (tumbling windows): `count` returns `{"state": {"count": n}}` with n the
  running count of records the window has seen succeed; `echo` returns the state it got;
  `none` returns no state (a failed invocation, spec 7.1). Default `echo`.

Output additions: `dropped` (records gone without a failure record, but for the trimmed ones),
`trimmed` (past stream retention, spec 8), `filtered`, and `dropped_by_cause`: every dropped record
by its cause (`trimmed`, `record_age`, `retries_exhausted`, `destination_failed`; the vocabulary of
harness/esm/outcomes.py, which scenario observations use too).

One virtual clock for every shard. Shards are stepped round-robin; a backoff never sleeps (the
readers are non-blocking), so a shard waiting out retries does not hold time back for the
others; when every shard is idle or waiting, the clock jumps to the earliest of the next record
arrival, batching-window deadline, backoff end or window end. Output invocations and
destination records carry `shard` and `t` (virtual seconds since `clock.start` when it happened);
`drops` lists each drop with no destination (retries or age ended with none, delivery failed,
or trimmed by retention: `condition` null) with its `records`, `reason`, `shard` and `t`; window
invokes carry `window`, `state_in`, `state_out`, `final` and `early`.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import math
import time
import uuid as uuidlib
import zlib
from array import array
from base64 import b64encode
from collections.abc import Sequence
from typing import Any, Callable

from harness.esm import outcomes
from harness.esm.clock import VirtualClock
from harness.esm.config import Backoff, EngineSettings, parse_mapping
from harness.esm.destinations import InMemoryDestinations
from harness.esm.errors import EsmValidationError
from harness.esm.filtering import RecordFilter
from harness.esm.metrics import Metrics
from harness.esm.reader_choice import make_reader
from harness.esm.shard_reader import FINISHED
from harness.esm.records import make_record, to_attribute_value
from harness.esm.sources import kinesis as kinesis_records
from harness.esm.sources.kind import StreamKind
from harness.esm.sources.memory import GeneratedRecords, MemoryStreamSource
from harness.esm.sources.registry import KINDS, kind_for_arn, kind_of_record
from harness.esm.destinations import GatedDestinations
from harness.esm.fault_records import record_matcher
from harness.fault_rules import (INJECTED_ERROR_TYPE, Action, DestinationOutage, Fault, FaultPlan, FaultSpecError,
                                 OutageGate, merge_failures, parse_faults, times_out)
from harness.invoke import InvokeResult, InvokeServiceError

DEFAULT_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/simulated/stream/2024-01-01T00:00:00.000"
DEFAULT_KINESIS_STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/simulated"
DEFAULT_FUNCTION = "simulated-consumer"
MODES = ("raise", "partial", "partial-or-raise", "partial-malformed", "timeout")
AGGREGATES = ("echo", "count", "none")
MAX_SHARDS = 64
SEQ_BASE = 10**20  # 21-digit sequence numbers (spec 6: 21..40 characters)
# 56-digit Kinesis sequence numbers, like AWS's (spec 10); + 100 * 5,000,000 keeps 56 digits.
KINESIS_SEQ_BASE = 49590338271490256608559692538361571095921575989136500000
MAX_RECORDS = 5_000_000
DEFAULT_TIMEOUT_S = 3.0  # Lambda's default function Timeout


class SimulationSpecError(ValueError):
    """The simulate spec is wrong; the message names the field at fault."""


class ScriptedHandler:
    """The consumer function of a simulation. Implements the processor's in-process fast path
    (`invoke_event`) so no JSON is built per invocation. Records are known by eventID (unique
    in a stream for both kinds; Kinesis sequence numbers are only unique per shard)."""

    def __init__(self, index_of: dict[str, int], fail: set[int], mode: str, fail_times: int | None,
                 aggregate: str = "echo", kind: StreamKind | None = None, faults: list[Fault] | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.index_of = index_of  # eventID -> record index
        self.seq = (kind or KINDS["dynamodb"]).seq
        self.fail = fail
        self.mode = mode
        self.fail_times = fail_times
        self.aggregate = aggregate
        self.deliveries: dict[int, int] = {}
        self._n = 0
        self.timeout_s = timeout_s
        # Injected faults (harness.fault_rules), decided by the same rules as on a live stack:
        # `items` are record indexes here, `match` the engine's filter grammar.
        self.plan = FaultPlan(faults, matcher=record_matcher, item_of=lambda r: index_of.get(r["eventID"]),
                              identifier=self.seq, wait=False) if faults else None

    def _failing(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        deliveries, fail, fail_times = self.deliveries, self.fail, self.fail_times
        index_of = self.index_of
        for r in records:
            i = index_of[r["eventID"]]
            if i in fail:  # only failing records need a delivery count (fail_times)
                d = deliveries.get(i, 0) + 1
                deliveries[i] = d
                if fail_times is None or d <= fail_times:
                    out.append(r)
        return out

    def invoke_event(self, function_name: str, event: dict[str, Any]) -> InvokeResult:
        result = self._respond(event)
        if "window" not in event or result.function_error or self.aggregate == "none":
            return result
        # Tumbling window: the response must carry state (spec 7.1), next to batchItemFailures.
        body = json.loads(result.payload or b"null")
        resp = body if isinstance(body, dict) else {}
        state = dict(event.get("state") or {})
        if self.aggregate == "count":
            failed = {f.get("itemIdentifier") for f in resp.get("batchItemFailures") or () if isinstance(f, dict)}
            ok = 0
            for r in event["Records"]:
                if self.seq(r) in failed:
                    break  # the engine commits only what precedes the lowest failed record
                ok += 1
            state["count"] = state.get("count", 0) + ok
        return InvokeResult(200, json.dumps({"state": state, **resp}).encode(), None, result.request_id)

    def _respond(self, event: dict[str, Any]) -> InvokeResult:
        action = self.plan.decide(None, event["Records"]) if self.plan is not None else None
        if action is None:
            return self._scripted(event)
        return self._faulted(event, action)

    def _faulted(self, event: dict[str, Any], action: Action) -> InvokeResult:
        """What the local runtime does under `action` (harness.runtime.faulting), in the oracle."""
        kind = action.kind
        if kind == "throttle":
            # Spec 1: the batch never reached the function; retried, never counted.
            raise InvokeServiceError("TooManyRequestsException: Rate Exceeded. (injected throttle)", throttled=True)
        if action.after_handler:
            result = self._scripted(event)
            if result.function_error is not None:
                return result
            if kind == "partial":
                return dataclasses.replace(result, payload=merge_failures(result.payload, action.identifiers))
            if kind == "latency" and not times_out(action.latency_ms, self.timeout_s):
                return result
            return self._injected_error(kind, action, result.request_id)
        if kind == "partial":
            drop = set(action.positions)
            rest = [r for p, r in enumerate(event["Records"]) if p not in drop]
            if rest:
                result = self._scripted({**event, "Records": rest})
            else:
                self._n += 1
                result = InvokeResult(200, b"null", None, f"00000000-0000-4000-8000-{self._n:012d}")
            if result.function_error is not None:
                return result
            return dataclasses.replace(result, payload=merge_failures(result.payload, action.identifiers))
        if kind == "latency" and not times_out(action.latency_ms, self.timeout_s):
            return self._scripted(event)
        self._n += 1
        return self._injected_error(kind, action, f"00000000-0000-4000-8000-{self._n:012d}")

    def _injected_error(self, kind: str, action: Action, rid: str) -> InvokeResult:
        if kind == "error":
            body = {"errorMessage": action.message, "errorType": INJECTED_ERROR_TYPE}
        elif kind == "crash":
            body = {"errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 1"}
        else:  # timeout, or latency past the Timeout
            body = {"errorType": "Sandbox.Timedout", "errorMessage": f"Task timed out after {self.timeout_s:.2f} seconds"}
        return InvokeResult(200, json.dumps(body).encode(), "Unhandled", rid)

    def _scripted(self, event: dict[str, Any]) -> InvokeResult:
        self._n += 1
        rid = f"00000000-0000-4000-8000-{self._n:012d}"
        failing = self._failing(event["Records"])
        if self.mode == "raise" and failing:
            i = self.index_of[failing[0]["eventID"]]
            body = {"errorMessage": f"poison record {i}", "errorType": "PoisonRecord"}
            return InvokeResult(200, json.dumps(body).encode(), "Unhandled", rid)
        if self.mode == "timeout" and failing:
            body = {"errorMessage": "Task timed out after 3.00 seconds"}
            return InvokeResult(200, json.dumps(body).encode(), "Unhandled", rid)
        if self.mode == "partial-or-raise" and failing and len(failing) == len(event["Records"]):
            # Powertools' BatchProcessor: a batch whose every record failed raises instead of
            # answering with batchItemFailures.
            i = self.index_of[failing[0]["eventID"]]
            body = {"errorMessage": f"All records failed processing. {len(failing)} individual errors logged "
                                    f"separately below. (poison record {i})", "errorType": "BatchProcessingError"}
            return InvokeResult(200, json.dumps(body).encode(), "Unhandled", rid)
        if self.mode in ("partial", "partial-or-raise"):
            ids = [{"itemIdentifier": self.seq(r)} for r in failing]
            return InvokeResult(200, json.dumps({"batchItemFailures": ids}).encode(), None, rid)
        if self.mode == "partial-malformed" and failing:
            return InvokeResult(200, b'{"batchItemFailures":[{"itemIdentifier":"123"}]}', None, rid)
        return InvokeResult(200, b"null", None, rid)

    def invoke(self, function_name: str, payload: bytes) -> InvokeResult:
        return self.invoke_event(function_name, json.loads(payload))


def _num(spec: dict[str, Any], key: str, where: str, default: float, lo: float = 0.0) -> float:
    v = spec.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < lo:
        raise SimulationSpecError(f"{where}.{key} must be a finite number >= {lo}, got {v!r}")
    return float(v)


def _records(spec: Any, kind: StreamKind) -> Sequence[dict[str, Any]] | range:
    if isinstance(spec, bool):
        raise SimulationSpecError("records must be a count or a list of items, got a boolean")
    if isinstance(spec, int):
        if not 0 <= spec <= MAX_RECORDS:
            raise SimulationSpecError(f"records must be between 0 and {MAX_RECORDS}, got {spec}")
        return range(spec)  # made on read (_counted_records), never held as a list
    if isinstance(spec, list):
        what = "a NewImage-like item" if kind.name == "dynamodb" else "a {partitionKey, data} record"
        for i, item in enumerate(spec):
            if not isinstance(item, dict):
                raise SimulationSpecError(f"records[{i}] must be an object ({what}), got {item!r}")
        if len(spec) > MAX_RECORDS:
            raise SimulationSpecError(f"records has more than {MAX_RECORDS} items")
        return spec
    raise SimulationSpecError(f"records must be a count or a list of items, got {type(spec).__name__}")


def _handler(spec: Any, n: int) -> tuple[set[int], str, int | None, str, float]:
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise SimulationSpecError("handler must be an object with fail, mode, fail_times")
    unknown = set(spec) - {"fail", "mode", "fail_times", "aggregate", "timeout_s"}
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
    agg = spec.get("aggregate", "echo")
    if agg not in AGGREGATES:
        raise SimulationSpecError(f"handler.aggregate must be one of {', '.join(AGGREGATES)}, got {agg!r}")
    timeout_s = spec.get("timeout_s", DEFAULT_TIMEOUT_S)
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not 0 < timeout_s <= 900:
        raise SimulationSpecError(f"handler.timeout_s must be a number of seconds in (0, 900], got {timeout_s!r}")
    return set(fail), mode, ft, agg, float(timeout_s)


def _faults(spec: Any, n: int, function_name: str) -> tuple[list[Fault], list[DestinationOutage]]:
    """The spec's `faults` (the scenario file's shape, harness.fault_rules); `items` are record
    indexes; a fault naming another function than the mapping's does not touch this simulation."""
    try:
        faults, outages = parse_faults(spec, "spec")
    except FaultSpecError as exc:
        raise SimulationSpecError(str(exc)) from None
    for f in faults:
        bad = [i for i in f.items or () if i >= n]
        if bad:
            raise SimulationSpecError(f"spec: faults[{f.index}]: field 'items': {bad} are not record indexes in 0..{n - 1}")
    return [f for f in faults if f.function in (None, function_name)], outages


def _engine(spec: Any) -> EngineSettings:
    if spec is None:
        return EngineSettings()
    if not isinstance(spec, dict):
        raise SimulationSpecError("engine must be an object of engine settings")
    fields = {f.name for f in dataclasses.fields(EngineSettings)}
    defaults = EngineSettings()
    kwargs: dict[str, Any] = {}
    for k, v in spec.items():
        if k not in fields:
            raise SimulationSpecError(f"engine.{k} is not an engine setting (known: {', '.join(sorted(fields))})")
        if k == "backoff":
            if not isinstance(v, dict) or set(v) - {"initial_s", "factor", "max_s"}:
                raise SimulationSpecError("engine.backoff must be {initial_s, factor, max_s}")
            backoff = Backoff(**{kk: _num(v, kk, "engine.backoff", 0) for kk in v})
            # Virtual time moves only when the engine waits: a zero or shrinking backoff would retry
            # forever at one instant (with MaximumRetryAttempts -1, age and retention never come).
            if backoff.initial_s <= 0 or backoff.max_s <= 0 or backoff.factor < 1:
                raise SimulationSpecError(f"engine.backoff needs initial_s > 0, max_s > 0 and factor >= 1, got {v!r}")
            kwargs[k] = backoff
        else:
            kwargs[k] = _setting(k, v, getattr(defaults, k))
    return EngineSettings(**kwargs)


def _setting(name: str, value: Any, default: Any) -> Any:
    """Engine settings keep their default's type; a wrong one would fail deep inside a run."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SimulationSpecError(f"engine.{name} must be true or false, got {value!r}")
    elif isinstance(default, (int, float)):
        kind = "integer" if isinstance(default, int) else "number"
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                or value <= 0 or (kind == "integer" and not isinstance(value, int))):
            raise SimulationSpecError(f"engine.{name} must be a positive {kind}, got {value!r}")
    return value


def run_simulation(spec: dict, *, stream_records: list[dict[str, Any]] | None = None) -> dict:
    """Run one scripted scenario to the end of the stream; see the module doc for the shapes.
    `stream_records`: Lambda-shaped records exactly as a backend delivered them, used instead of
    generated ones (module doc, "Replaying what a real stream held")."""
    # A simulation allocates millions of small, long-lived dicts and frees nothing until the end;
    # the cyclic GC would rescan them over and over (half the run time at 100,000 records).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(spec, stream_records)
    finally:
        if was_enabled:
            gc.enable()


def _kind(spec: dict, stream_records: list[dict[str, Any]] | None) -> StreamKind:
    """The stream kind: `source`, the records' own (stream_records), or DynamoDB."""
    name = spec.get("source")
    if name is not None and name not in KINDS:
        raise SimulationSpecError(f"source must be one of {', '.join(KINDS)}, got {name!r}")
    if stream_records is None:
        return KINDS[name or "dynamodb"]
    if not isinstance(stream_records, list):
        raise SimulationSpecError(f"stream_records must be a list of Lambda-shaped records, got {type(stream_records).__name__}")
    kinds = []
    for i, r in enumerate(stream_records):
        k = kind_of_record(r)
        if k is None:
            raise SimulationSpecError(f"stream_records[{i}] is not a Lambda-shaped stream record "
                                      f"(no {' or '.join(repr(x.record_key) for x in KINDS.values())} object)")
        if kinds and k is not kinds[0]:
            raise SimulationSpecError(f"stream_records[{i}] is a {k.label} record but stream_records[0] is a "
                                      f"{kinds[0].label} record: one simulation reads one stream")
        kinds.append(k)
    kind = kinds[0] if kinds else KINDS[name or "dynamodb"]
    if name is not None and name != kind.name:
        raise SimulationSpecError(f"source is {name!r} but stream_records are {kind.label} records")
    return kind


def _mapping(spec: dict, kind: StreamKind, stream_records: list[dict[str, Any]] | None) -> Any:
    mapping_spec = spec.get("mapping", {})
    if not isinstance(mapping_spec, dict):
        raise SimulationSpecError("mapping must be an object of Lambda API parameters")
    default_arn = DEFAULT_STREAM if kind.name == "dynamodb" else DEFAULT_KINESIS_STREAM
    if stream_records:
        arn = stream_records[0].get("eventSourceARN")
        if isinstance(arn, str) and kind_for_arn(arn) is kind:
            default_arn = arn
    params = {"EventSourceArn": default_arn, "FunctionName": DEFAULT_FUNCTION,
              "StartingPosition": "TRIM_HORIZON", **mapping_spec}
    try:
        mapping = parse_mapping(params)
    except EsmValidationError as exc:
        raise SimulationSpecError(f"mapping: {exc}") from None
    if mapping.kind is not kind:
        raise SimulationSpecError(f"mapping.EventSourceArn {mapping.EventSourceArn!r} is a {mapping.kind.label} ARN "
                                  f"but the simulation's source is {kind.name!r}")
    return mapping


def _run(spec: dict, stream_records: list[dict[str, Any]] | None = None) -> dict:
    if not isinstance(spec, dict):
        raise SimulationSpecError("the simulate spec must be a JSON object")
    unknown = set(spec) - {"mapping", "records", "handler", "clock", "engine", "shards", "keys", "source", "faults"}
    if unknown:
        raise SimulationSpecError(f"unknown top-level field(s): {', '.join(sorted(unknown))}")
    kind = _kind(spec, stream_records)
    mapping = _mapping(spec, kind, stream_records)
    keys = spec.get("keys")
    if keys is not None and (isinstance(keys, bool) or not isinstance(keys, int) or keys < 1):
        raise SimulationSpecError(f"keys must be an integer >= 1, got {keys!r}")
    clock_spec = spec.get("clock") or {}
    if not isinstance(clock_spec, dict) or set(clock_spec) - {"start", "record_interval_s", "start_delay_s"}:
        raise SimulationSpecError("clock must be {start, record_interval_s, start_delay_s}")
    if stream_records is not None:
        given = spec.get("records")
        if given is not None and (isinstance(given, bool) or given != len(stream_records)):
            raise SimulationSpecError(f"records must be absent or {len(stream_records)} (the number of stream_records) "
                                      f"when stream_records are given, got {given!r}")
        if "record_interval_s" in clock_spec:
            raise SimulationSpecError("clock.record_interval_s cannot be used with stream_records: "
                                      "the records carry their own arrival times")
        n = len(stream_records)
        items = stream_records
    else:
        items = _records(spec.get("records", 0), kind)
        n = len(items)
    fail, mode, fail_times, aggregate, timeout_s = _handler(spec.get("handler"), n)
    faults, outages = _faults(spec.get("faults"), n, mapping.FunctionName)
    settings = _engine(spec.get("engine"))
    dest = mapping.OnFailureDestination or ""
    if settings.block_on_destination_failure and dest.endswith(".fifo"):
        # Spec 3.1: a FIFO destination always fails; blocking on it would wait forever.
        raise SimulationSpecError(f"engine.block_on_destination_failure with the FIFO destination {dest} "
                                  "would block the shard forever (spec 3.1: FIFO always fails)")

    arn = mapping.stream_arn
    region = arn.split(":")[3]
    if stream_records is not None:
        arrivals = [kind.arrival(r) for r in stream_records]
        first = min((a for a in arrivals if a is not None), default=1_700_000_000.0)
        start = _num(clock_spec, "start", "clock", first)
        shards = (_shards(spec["shards"], kind) if "shards" in spec
                  else _shards_of_records(stream_records, kind))
    else:
        start = _num(clock_spec, "start", "clock", 1_700_000_000.0)
        shards = _shards(spec.get("shards", 1), kind)
    interval = _num(clock_spec, "record_interval_s", "clock", 0.0)
    delay = _num(clock_spec, "start_delay_s", "clock", 0.0)

    clock = VirtualClock(start)
    source = MemoryStreamSource(arn, now=clock.now, kind=kind)
    ids = [sid for sid, _ in shards]
    for sid, parent in shards:
        source.add_shard(sid, parent)
    parents = {p for _, p in shards if p is not None}
    leaves = [sid for sid in ids if sid not in parents]
    index_of: Any
    index_by_shard: dict[str, Any]
    if isinstance(items, range):
        index_of, index_by_shard = _counted_records(source, kind, len(items), keys, ids, leaves, arn=arn,
                                                    region=region, start=start, interval=interval)
    else:
        if stream_records is not None:
            per_shard, index_of = _place_stream_records(stream_records, kind, ids, leaves)
        elif kind.name == "kinesis":
            per_shard, index_of = _kinesis_records(items, keys, ids, leaves, arn=arn, region=region, start=start,
                                                   interval=interval)
        else:
            per_shard, index_of = _dynamodb_records(items, keys, ids, leaves, arn=arn, region=region, start=start,
                                                    interval=interval)
        # The report reads sequence numbers from the journal, per shard (Kinesis numbers repeat across
        # shards); positions follow the records, so one pass per shard pairs them up.
        index_by_shard = {}
        for sid in ids:
            recs = per_shard[sid]
            index_by_shard[sid] = dict(zip(kind.seqs(recs), [index_of[r["eventID"]] for r in recs]))
            try:
                source.append(sid, per_shard[sid])
            except ValueError as exc:
                raise SimulationSpecError(f"stream_records of shard {sid}: {exc}") from None
        del per_shard
    for sid in ids:
        source.close_shard(sid)

    uuid = str(uuidlib.UUID(int=0xE5 << 100))
    outcome = _Outcome(index_by_shard, mapping, start)
    journal = _ReportingJournal(outcome.add, clock)
    metrics = Metrics()
    memory = InMemoryDestinations(keep=False)
    destinations: Any = memory
    if outages:
        gate = OutageGate(outages, now=clock.now)
        destinations = GatedDestinations(memory, gate.refuses, on_refused=lambda failure, o: journal.record(
            "fault_injected", fault="destination-unavailable", fault_index=o.index,
            sequence_numbers=failure.sequence_numbers()))
    handler = ScriptedHandler(index_of, fail, mode, fail_times, aggregate, kind, faults=faults, timeout_s=timeout_s)
    clock.advance_to(start + delay)
    parent_of = dict(shards)
    readers: dict[str, Any] = {}
    finished: set[str] = set()
    record_filter = RecordFilter(mapping.Filters, view=kind.filter_view)
    open_kw: dict[str, Any] = {}
    if mapping.StartingPosition == "AT_TIMESTAMP":
        open_kw["timestamp"] = mapping.StartingPositionTimestamp
    while len(finished) < len(ids):
        progressed = False
        for sid in ids:  # round-robin; list order is parent first (_shards checks it)
            if sid in finished:
                continue
            reader = readers.get(sid)
            if reader is None:
                parent = parent_of[sid]
                if parent is not None and parent not in finished:
                    continue  # spec 8: parent before child
                reader = readers[sid] = make_reader(
                    uuid=uuid, shard_id=sid, mapping=mapping, settings=settings,
                    cursor=source.open(sid, starting_position=mapping.StartingPosition, **open_kw), invoker=handler,
                    destinations=destinations, clock=clock, metrics=metrics, journal=journal,
                    record_filter=record_filter, sleep=clock.sleep, blocking=False)
            state = reader.step()
            if state == FINISHED:
                finished.add(sid)
                progressed = True
            elif state == "worked":
                progressed = True
        if progressed:
            continue
        now = clock.now()
        wakes = [w for w in [source.next_arrival()] + [r.next_wake() for s, r in readers.items() if s not in finished]
                 if w is not None and w > now]
        if not wakes:
            break
        clock.advance_to(min(wakes))
    out = outcome.result(metrics, clock.now() - start, mode)
    if faults or outages:
        used = handler.plan.used() if handler.plan is not None else {}
        out["faults_applied"] = [{"fault_index": f.index, "fault": f.kind, "invocations": used.get(f.index, 0)}
                                 for f in faults]
        out["faults_applied"] += [{"fault_index": o.index, "fault": "destination-unavailable",
                                   "deliveries": outcome.injected.get(o.index, 0)} for o in outages]
    return out


class _PerPosition(Sequence):
    """`value(position)` for each position a shard holds: the sequence numbers and arrival times of
    counted records, without a value held per record."""

    def __init__(self, positions: Sequence[int], value: Callable[[int], Any]) -> None:
        self._positions, self._value = positions, value

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return [self._value(p) for p in self._positions[k]]
        return self._value(self._positions[k])


class _CountedIndex:
    """A counted record's index from its eventID or sequence number, which encode it."""

    def __init__(self, parse: Callable[[str], int]) -> None:
        self._parse = parse

    def __getitem__(self, key: str) -> int:
        return self._parse(key)

    def get(self, key: str, default: int | None = None) -> int | None:
        try:
            return self._parse(key)
        except (TypeError, ValueError, IndexError):
            return default


def _counted_records(source: MemoryStreamSource, kind: StreamKind, n: int, keys: int | None, ids: list[str],
                     leaves: list[str], *, arn: str, region: str, start: float,
                     interval: float) -> tuple[_CountedIndex, dict[str, _CountedIndex]]:
    """`records: N`: each shard holds only its records' positions; a record is made when a batch
    reads it (GeneratedRecords), equal to the one the item-list path would build for `{"id": i}`
    (DynamoDB) or `{}` (Kinesis). Memory is then 8 bytes a record, not ~2.5 KB."""
    positions: dict[str, array] = {sid: array("q") for sid in ids}
    if len(leaves) == 1:
        positions[leaves[0]].extend(range(n))
    else:
        route: dict[int, array] = {}
        for i in range(n):
            k = i % keys if keys else i
            target = route.get(k)
            if target is None:
                target = positions[_route(f"item-{k}", leaves)]
                if keys:
                    route[k] = target
            target.append(i)

    def key(i: int) -> str:
        return f"item-{i % keys}" if keys else f"item-{i}"

    if kind.name == "kinesis":
        identity = kinesis_records.stand_in_role(arn.split(":")[4])
        base = KINESIS_SEQ_BASE

        def maker(sid: str) -> Callable[[int], dict[str, Any]]:
            def make(i: int) -> dict[str, Any]:
                return kinesis_records.make_record(
                    sequence_number=str(base + i * 100), arrival_s=start + i * interval, partition_key=key(i),
                    data_b64=b64encode(b'{"id":%d}' % i).decode("ascii"), shard_id=sid, stream_arn=arn,
                    region=region, invoke_identity_arn=identity)
            return make

        index_of = _CountedIndex(lambda event_id: (int(event_id.rsplit(":", 1)[1]) - base) // 100)
    else:
        base = SEQ_BASE

        def maker(sid: str) -> Callable[[int], dict[str, Any]]:
            def make(i: int) -> dict[str, Any]:
                pk = key(i)
                return make_record(sequence_number=str(base + i * 100), arrival_s=start + i * interval,
                                   new_image={"id": {"N": str(i)}}, keys={"pk": {"S": pk}}, stream_arn=arn,
                                   region=region, event_id=f"{i + 1:032x}", size=4 + len(pk) + len(str(i)))
            return make

        index_of = _CountedIndex(lambda event_id: int(event_id, 16) - 1)
    by_seq = _CountedIndex(lambda seq: (int(seq) - base) // 100)
    # The arrival the source orders by is the one the record carries (kind.arrival): DynamoDB's
    # whole-second ApproximateCreationDateTime, Kinesis's millisecond timestamp.
    arrival = ((lambda i: math.floor(start + i * interval)) if kind.name == "dynamodb"
               else (lambda i: round(start + i * interval, 3)))
    for sid in ids:
        pos = positions[sid]
        source.set_generated(sid, GeneratedRecords(pos, maker(sid)), _PerPosition(pos, lambda i: base + i * 100),
                             _PerPosition(pos, arrival))
    return index_of, {sid: by_seq for sid in ids}


def _route(pk: str, leaves: list[str]) -> str:
    return leaves[zlib.crc32(pk.encode()) % len(leaves)] if len(leaves) > 1 else leaves[0]


def _split_meta(item: dict[str, Any], i: int, allowed: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    if not any(k.startswith("$") for k in item):
        return item, {}
    meta = {k: v for k, v in item.items() if k.startswith("$")}
    unknown_meta = set(meta) - allowed
    if unknown_meta:
        raise SimulationSpecError(f"records[{i}]: unknown field(s) {', '.join(sorted(unknown_meta))} "
                                  f"(only {' and '.join(sorted(allowed))})")
    return {k: v for k, v in item.items() if not k.startswith("$")}, meta


def _dynamodb_records(items: list[dict[str, Any]], keys: int | None, ids: list[str], leaves: list[str], *, arn: str,
                      region: str, start: float, interval: float) -> tuple[dict[str, list], dict[str, int]]:
    per_shard: dict[str, list[dict[str, Any]]] = {sid: [] for sid in ids}
    index_of: dict[str, int] = {}
    single = leaves[0] if len(leaves) == 1 else None
    for i, item in enumerate(items):
        sn = str(SEQ_BASE + i * 100)
        event_id = f"{i + 1:032x}"
        index_of[event_id] = i
        if any(k.startswith("$") for k in item):
            item, meta = _split_meta(item, i, {"$key", "$shard"})
        else:
            meta = {}
        try:
            image = {k: to_attribute_value(v) for k, v in item.items()}
        except ValueError as exc:
            raise SimulationSpecError(f"records[{i}]: {exc}") from None
        if "$key" in meta:
            if not isinstance(meta["$key"], (str, int)) or isinstance(meta["$key"], bool):
                raise SimulationSpecError(f"records[{i}].$key must be a string or an integer")
            pk = str(meta["$key"])
        else:
            pk = f"item-{i % keys}" if keys else f"item-{i}"
        if "$shard" in meta:
            sid = _shard_ref(meta["$shard"], ids, f"records[{i}].$shard")
        else:
            sid = single or _route(pk, leaves)
        # SizeBytes from the plain item (names + printed values): close to DynamoDB's rule, and
        # a fifth of the cost of walking the AttributeValue tree for 100,000 records.
        size = 2 + len(pk) + sum(len(k) + len(str(v)) for k, v in item.items())
        per_shard[sid].append(make_record(sequence_number=sn, arrival_s=start + i * interval, new_image=image,
                                          keys={"pk": {"S": pk}}, stream_arn=arn, region=region,
                                          event_id=event_id, size=size))
    return per_shard, index_of


def _kinesis_records(items: list[dict[str, Any]], keys: int | None, ids: list[str], leaves: list[str], *, arn: str,
                     region: str, start: float, interval: float) -> tuple[dict[str, list], dict[str, int]]:
    """Kinesis records (spec 10) from `{partitionKey, data}` items, or `{}` for a counted record."""
    per_shard: dict[str, list[dict[str, Any]]] = {sid: [] for sid in ids}
    index_of: dict[str, int] = {}
    identity = kinesis_records.stand_in_role(arn.split(":")[4])
    for i, item in enumerate(items):
        item, meta = _split_meta(item, i, {"$shard"})
        if item:
            unknown = set(item) - {"partitionKey", "data"}
            if unknown:
                raise SimulationSpecError(f"records[{i}]: unknown field(s) {', '.join(sorted(unknown))} "
                                          "(a Kinesis record is {partitionKey, data})")
            pk = item.get("partitionKey")
            if not isinstance(pk, str) or not 1 <= len(pk) <= kinesis_records.MAX_PARTITION_KEY:
                raise SimulationSpecError(f"records[{i}].partitionKey must be a string of 1..{kinesis_records.MAX_PARTITION_KEY} "
                                          f"characters, got {pk!r}")
            if "data" not in item:
                raise SimulationSpecError(f"records[{i}].data is required (a string, or any JSON value)")
            try:
                data_b64 = kinesis_records.encode_data(item["data"])
            except (TypeError, ValueError) as exc:
                raise SimulationSpecError(f"records[{i}].data cannot be sent as JSON: {exc}") from None
        else:
            pk = f"item-{i % keys}" if keys else f"item-{i}"
            # {"id": i} as encode_data writes it, without json.dumps per record (100,000-record runs).
            data_b64 = b64encode(b'{"id":%d}' % i).decode("ascii")
        sid = _shard_ref(meta["$shard"], ids, f"records[{i}].$shard") if "$shard" in meta else _route(pk, leaves)
        sn = str(KINESIS_SEQ_BASE + i * 100)
        rec = kinesis_records.make_record(sequence_number=sn, arrival_s=start + i * interval, partition_key=pk,
                                          data_b64=data_b64, shard_id=sid, stream_arn=arn, region=region,
                                          invoke_identity_arn=identity)
        index_of[rec["eventID"]] = i
        per_shard[sid].append(rec)
    return per_shard, index_of


def _event_shard(record: dict[str, Any], kind: StreamKind) -> str | None:
    """The shard a Kinesis eventID (`<shardId>:<sequenceNumber>`) names; None for other kinds."""
    if kind.name != "kinesis":
        return None
    event_id = record.get("eventID")
    if isinstance(event_id, str) and ":" in event_id:
        return event_id.rsplit(":", 1)[0]
    return None


def _shards_of_records(records: list[dict[str, Any]], kind: StreamKind) -> list[tuple[str, str | None]]:
    seen: dict[str, None] = {}
    for r in records:
        sid = _event_shard(r, kind)
        if sid:
            seen.setdefault(sid)
    if not seen:
        return _shards(1, kind)
    if len(seen) > MAX_SHARDS:
        raise SimulationSpecError(f"stream_records span {len(seen)} shards; at most {MAX_SHARDS}")
    return [(sid, None) for sid in seen]


def _place_stream_records(records: list[dict[str, Any]], kind: StreamKind, ids: list[str], leaves: list[str]
                          ) -> tuple[dict[str, list], dict[str, int]]:
    per_shard: dict[str, list[dict[str, Any]]] = {sid: [] for sid in ids}
    index_of: dict[str, int] = {}
    for i, r in enumerate(records):
        event_id = r.get("eventID")
        if not isinstance(event_id, str) or not event_id:
            raise SimulationSpecError(f"stream_records[{i}] has no eventID")
        if event_id in index_of:
            raise SimulationSpecError(f"stream_records[{i}] repeats the eventID {event_id!r} of "
                                      f"stream_records[{index_of[event_id]}]")
        try:
            seq = kind.seq(r)
            ok = isinstance(seq, str) and seq.isdigit() and isinstance(kind.arrival(r), (int, float))
        except (KeyError, TypeError):
            ok = False
        if not ok:
            raise SimulationSpecError(f"stream_records[{i}] has no digit-string sequence number or no numeric "
                                      f"arrival time where a {kind.label} record has them")
        index_of[event_id] = i
        sid = _event_shard(r, kind)
        if sid not in per_shard:
            # One leaf takes every record: no key to compute (a JSON text per record, explore's 100 runs).
            sid = _route(kind.item_key(r), leaves) if len(leaves) > 1 else leaves[0]
        per_shard[sid].append(r)
    return per_shard, index_of


def _shard_ref(ref: Any, ids: list[str], where: str, before: int | None = None) -> str:
    limit = len(ids) if before is None else before
    if isinstance(ref, int) and not isinstance(ref, bool):
        if 0 <= ref < limit:
            return ids[ref]
    elif isinstance(ref, str) and ref in ids[:limit]:
        return ref
    what = "an earlier shard (index or id)" if before is not None else f"a shard index 0..{len(ids) - 1} or shard id"
    raise SimulationSpecError(f"{where} = {ref!r} is not {what}")


def _shard_name(kind: StreamKind, k: int) -> str:
    """AWS's shard ID shapes: DynamoDB's timestamped IDs, Kinesis's shardId-000000000000."""
    return f"shardId-00000001700000000000-{k + 1:08d}" if kind.name == "dynamodb" else f"shardId-{k:012d}"


def _shards(spec: Any, kind: StreamKind | None = None) -> list[tuple[str, str | None]]:
    """(shard id, parent id) in an order where every parent comes before its children."""
    kind = kind or KINDS["dynamodb"]
    if isinstance(spec, int) and not isinstance(spec, bool):
        if not 1 <= spec <= MAX_SHARDS:
            raise SimulationSpecError(f"shards must be between 1 and {MAX_SHARDS}, got {spec}")
        return [(_shard_name(kind, k), None) for k in range(spec)]
    if not isinstance(spec, list) or not 1 <= len(spec) <= MAX_SHARDS:
        raise SimulationSpecError(f"shards must be a count or a list of 1..{MAX_SHARDS} shard objects")
    out: list[tuple[str, str | None]] = []
    ids: list[str] = []
    for k, sh in enumerate(spec):
        if not isinstance(sh, dict) or set(sh) - {"id", "parent"}:
            raise SimulationSpecError(f"shards[{k}] must be an object with optional id and parent")
        sid = sh.get("id", _shard_name(kind, k))
        if not isinstance(sid, str) or not sid or sid in ids:
            raise SimulationSpecError(f"shards[{k}].id {sid!r} must be a unique non-empty string")
        ids.append(sid)
        parent = sh.get("parent")
        out.append((sid, None if parent is None else _shard_ref(parent, ids, f"shards[{k}].parent", before=k)))
    return out


class _ReportingJournal:
    """The engine's journal in a simulation: each entry goes to the report as it is written and
    is not kept, so a run's memory does not grow with its journal (a million records write
    millions of entries). The engine only ever records into its journal.

    Entries also carry `vt`, the virtual clock's time: the output's `t` fields say when (in
    simulated seconds) each invoke, destination write and drop happened, which is how long a
    shard was held (explore's drain and blocked times) without a wall clock."""

    def __init__(self, sink: Callable[[dict[str, Any]], None], clock: VirtualClock) -> None:
        self._sink = sink
        self._now = clock.now
        self._count = 0

    def record(self, kind: str, **fields: Any) -> dict[str, Any]:
        entry = {"seq": self._count, "ts": time.time(), "vt": self._now(), "kind": kind, **fields}
        self._count += 1
        self._sink(entry)
        return entry


class _Outcome:
    """The simulation's output, gathered entry by entry from the journal (the way reports read it)."""

    def __init__(self, index_by_shard: dict[str, Any], mapping: Any, start: float) -> None:
        self._index_by_shard = index_by_shard
        self._mapping = mapping
        self._start = start
        self.drops: list[dict[str, Any]] = []
        self.by_cause: dict[str, list[int]] = {}
        self.undelivered: list[int] = []
        self.injected: dict[int, int] = {}  # destination outages: refusals per fault index
        self.invocations: list[dict[str, Any]] = []
        self.destination: list[dict[str, Any]] = []
        self.processed: list[int] = []
        self.dropped: list[int] = []
        self.filtered: list[int] = []
        self.trimmed: list[int] = []
        self.abandoned: list[dict[str, Any]] = []
        self._state_in: dict[str, Any] = {}

    def _idx(self, seqs: list[str] | None, shard_id: str) -> list[int]:
        index_of = self._index_by_shard[shard_id]
        return [index_of[s] for s in seqs or ()]

    def _at(self, e: dict[str, Any]) -> float:
        return round(e["vt"] - self._start, 6)

    def add(self, e: dict[str, Any]) -> None:
        kind = e["kind"]
        idx = self._idx
        if kind == "invoked":
            if "state_in" in e:
                self._state_in[e["invocation_id"]] = e["state_in"]
        elif kind == "invoke_result":
            inv = {"records": idx(e["sequence_numbers"], e["shard_id"]), "result": e["outcome"], "attempt": e["attempt"],
                   "request_id": e["request_id"], "shard": e["shard_id"], "t": self._at(e)}
            if "lane" in e:
                inv["lane"] = e["lane"]
            if "window_start" in e:
                inv["window"] = {"start": e["window_start"],
                                 "end": e["window_start"] + self._mapping.TumblingWindowInSeconds}
                inv["state_in"] = self._state_in.pop(e["invocation_id"], None)
                inv["state_out"] = e.get("state_out")
                inv["final"] = e["final"]
                inv["early"] = e["early"]
            if e.get("reason"):
                inv["reason"] = e["reason"]
            if e.get("function_error"):
                inv["function_error"] = e["function_error"]
            if e.get("failed_sequence_numbers"):
                inv["failed"] = idx(e["failed_sequence_numbers"], e["shard_id"])
            self.invocations.append(inv)
            self.processed.extend(idx(e.get("committed_sequence_numbers"), e["shard_id"]))
        elif kind == "destination_write":
            self.destination.append({"key": e["key"], "destination": e["destination"], "condition": e["condition"],
                                     "records": idx(e["sequence_numbers"], e["shard_id"]), "envelope": e["envelope"],
                                     "shard": e["shard_id"], "t": self._at(e)})
        elif kind == "window_abandoned":
            self.abandoned.append({"shard": e["shard_id"], "window_start": e["window_start"], "reason": e["reason"]})
        elif kind == "dropped":
            records = idx(e["sequence_numbers"], e["shard_id"])
            cause = outcomes.drop_cause(e)
            (self.trimmed if cause == outcomes.TRIMMED else self.dropped).extend(records)
            self.by_cause.setdefault(cause, []).extend(records)
            self.drops.append({"records": records, "condition": e.get("condition"), "reason": e.get("reason"),
                               "shard": e["shard_id"], "t": self._at(e)})
            if cause == outcomes.DESTINATION_FAILED:
                self.undelivered.extend(records)
        elif kind == "filtered":
            self.filtered.extend(idx(e["sequence_numbers"], e["shard_id"]))
        elif kind == "fault_injected" and "fault_index" in e:
            self.injected[e["fault_index"]] = self.injected.get(e["fault_index"], 0) + 1

    def result(self, metrics: Metrics, elapsed: float, mode: str) -> dict:
        mapping = self._mapping
        discarded = sorted([i for d in self.destination for i in d["records"]] + self.dropped)
        warnings = []
        if mode.startswith("partial") and not mapping.report_batch_item_failures:
            warnings.append("handler.mode is partial but mapping.FunctionResponseTypes lacks ReportBatchItemFailures: "
                            "Lambda ignores the response (spec 2.2), so every batch succeeds")
        out = {
            "invocations": self.invocations,
            "destination": self.destination,
            "processed": sorted(self.processed),
            "discarded": discarded,
            "dropped": sorted(self.dropped),
            "filtered": sorted(self.filtered),
            "trimmed": sorted(self.trimmed),
            "drops": self.drops,
            "dropped_by_cause": {c: sorted(self.by_cause[c]) for c in outcomes.DROP_CAUSES if c in self.by_cause},
            "metrics": metrics.snapshot(),
            "virtual_seconds": elapsed,
        }
        if self.abandoned:
            out["windows_abandoned"] = self.abandoned
        if self.undelivered:
            # dropped because the destination refused them (spec 7.3); also in `dropped`
            out["undelivered"] = sorted(self.undelivered)
        if warnings:
            out["warnings"] = warnings
        return out
