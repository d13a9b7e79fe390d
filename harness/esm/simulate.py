"""`harness simulate`: the engine over an in-memory stream, a scripted handler and virtual time.

It is the oracle scenarios compare a backend against, so it runs the very same reader and
processor as EsmService; only the source, the invoker and the clock differ. Output is built
from the journal alone, the same way reports are.

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

One virtual clock for every shard. Shards are stepped round-robin; a backoff never sleeps (the
readers are non-blocking), so a shard waiting out retries does not hold time back for the
others; when every shard is idle or waiting, the clock jumps to the earliest of the next record
arrival, batching-window deadline, backoff end or window end. Output invocations and
destination records carry `shard`; window invokes carry `window`, `state_in`, `state_out`,
`final` and `early`.
"""

from __future__ import annotations

import dataclasses
import math
import gc
import json
import uuid as uuidlib
import zlib
from typing import Any

from harness.esm.clock import VirtualClock
from harness.esm.config import Backoff, EngineSettings, parse_mapping
from harness.esm.destinations import InMemoryDestinations
from harness.esm.errors import EsmValidationError
from harness.esm.filtering import RecordFilter
from harness.esm.metrics import Metrics
from harness.esm.reader import FINISHED
from harness.esm.readers import make_reader
from harness.esm.records import make_record, to_attribute_value
from harness.esm.sources.memory import MemoryStreamSource
from harness.invoke import InvokeResult
from harness.journal import Journal

DEFAULT_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/simulated/stream/2024-01-01T00:00:00.000"
DEFAULT_FUNCTION = "simulated-consumer"
SHARD_ID = "shardId-00000001700000000000-00000001"
MODES = ("raise", "partial", "partial-or-raise", "partial-malformed", "timeout")
AGGREGATES = ("echo", "count", "none")
MAX_SHARDS = 64
SEQ_BASE = 10**20  # 21-digit sequence numbers (spec 6: 21..40 characters)
MAX_RECORDS = 5_000_000


class SimulationSpecError(ValueError):
    """The simulate spec is wrong; the message names the field at fault."""


class ScriptedHandler:
    """The consumer function of a simulation. Implements the processor's in-process fast path
    (`invoke_event`) so no JSON is built per invocation."""

    def __init__(self, index_of: dict[str, int], fail: set[int], mode: str, fail_times: int | None,
                 aggregate: str = "echo") -> None:
        self.index_of = index_of
        self.fail = fail
        self.mode = mode
        self.fail_times = fail_times
        self.aggregate = aggregate
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
                if r["dynamodb"]["SequenceNumber"] in failed:
                    break  # the engine commits only what precedes the lowest failed record
                ok += 1
            state["count"] = state.get("count", 0) + ok
        return InvokeResult(200, json.dumps({"state": state, **resp}).encode(), None, result.request_id)

    def _respond(self, event: dict[str, Any]) -> InvokeResult:
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
        if self.mode == "partial-or-raise" and failing and len(failing) == len(event["Records"]):
            # Powertools' BatchProcessor: a batch whose every record failed raises instead of
            # answering with batchItemFailures.
            i = self.index_of[failing[0]["dynamodb"]["SequenceNumber"]]
            body = {"errorMessage": f"All records failed processing. {len(failing)} individual errors logged "
                                    f"separately below. (poison record {i})", "errorType": "BatchProcessingError"}
            return InvokeResult(200, json.dumps(body).encode(), "Unhandled", rid)
        if self.mode in ("partial", "partial-or-raise"):
            ids = [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in failing]
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


def _handler(spec: Any, n: int) -> tuple[set[int], str, int | None, str]:
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise SimulationSpecError("handler must be an object with fail, mode, fail_times")
    unknown = set(spec) - {"fail", "mode", "fail_times", "aggregate"}
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
    return set(fail), mode, ft, agg


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
    unknown = set(spec) - {"mapping", "records", "handler", "clock", "engine", "shards", "keys"}
    if unknown:
        raise SimulationSpecError(f"unknown top-level field(s): {', '.join(sorted(unknown))}")
    mapping_spec = spec.get("mapping", {})
    if not isinstance(mapping_spec, dict):
        raise SimulationSpecError("mapping must be an object of Lambda API parameters")
    params = {"EventSourceArn": DEFAULT_STREAM, "FunctionName": DEFAULT_FUNCTION,
              "StartingPosition": "TRIM_HORIZON", **mapping_spec}
    try:
        mapping = parse_mapping(params)
    except EsmValidationError as exc:
        raise SimulationSpecError(f"mapping: {exc}") from None
    shards = _shards(spec.get("shards", 1))
    items = _records(spec.get("records", 0))
    keys = spec.get("keys")
    if keys is not None and (isinstance(keys, bool) or not isinstance(keys, int) or keys < 1):
        raise SimulationSpecError(f"keys must be an integer >= 1, got {keys!r}")
    fail, mode, fail_times, aggregate = _handler(spec.get("handler"), len(items))
    clock_spec = spec.get("clock") or {}
    if not isinstance(clock_spec, dict) or set(clock_spec) - {"start", "record_interval_s", "start_delay_s"}:
        raise SimulationSpecError("clock must be {start, record_interval_s, start_delay_s}")
    start = _num(clock_spec, "start", "clock", 1_700_000_000.0)
    interval = _num(clock_spec, "record_interval_s", "clock", 0.0)
    delay = _num(clock_spec, "start_delay_s", "clock", 0.0)
    settings = _engine(spec.get("engine"))
    dest = mapping.OnFailureDestination or ""
    if settings.block_on_destination_failure and dest.endswith(".fifo"):
        # Spec 3.1: a FIFO destination always fails; blocking on it would wait forever.
        raise SimulationSpecError(f"engine.block_on_destination_failure with the FIFO destination {dest} "
                                  "would block the shard forever (spec 3.1: FIFO always fails)")

    clock = VirtualClock(start)
    arn = mapping.EventSourceArn
    region = arn.split(":")[3]
    source = MemoryStreamSource(arn, now=clock.now)
    ids = [sid for sid, _ in shards]
    for sid, parent in shards:
        source.add_shard(sid, parent)
    parents = {p for _, p in shards if p is not None}
    leaves = [sid for sid in ids if sid not in parents]
    per_shard: dict[str, list[dict[str, Any]]] = {sid: [] for sid in ids}
    index_of: dict[str, int] = {}
    for i, item in enumerate(items):
        sn = str(SEQ_BASE + i * 100)
        index_of[sn] = i
        if any(k.startswith("$") for k in item):
            meta = {k: v for k, v in item.items() if k.startswith("$")}
            item = {k: v for k, v in item.items() if not k.startswith("$")}
        else:
            meta = {}
        unknown_meta = set(meta) - {"$key", "$shard"}
        if unknown_meta:
            raise SimulationSpecError(f"records[{i}]: unknown field(s) {', '.join(sorted(unknown_meta))} "
                                      "(only $key and $shard)")
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
            sid = leaves[zlib.crc32(pk.encode()) % len(leaves)] if len(leaves) > 1 else leaves[0]
        # SizeBytes from the plain item (names + printed values): close to DynamoDB's rule, and
        # a fifth of the cost of walking the AttributeValue tree for 100,000 records.
        size = 2 + len(pk) + sum(len(k) + len(str(v)) for k, v in item.items())
        per_shard[sid].append(make_record(sequence_number=sn, arrival_s=start + i * interval, new_image=image,
                                          keys={"pk": {"S": pk}}, stream_arn=arn, region=region,
                                          event_id=f"{i + 1:032x}", size=size))
    for sid in ids:
        source.append(sid, per_shard[sid])
        source.close_shard(sid)
    del per_shard

    uuid = str(uuidlib.UUID(int=0xE5 << 100))
    journal = Journal()
    metrics = Metrics()
    destinations = InMemoryDestinations()
    handler = ScriptedHandler(index_of, fail, mode, fail_times, aggregate)
    clock.advance_to(start + delay)
    parent_of = dict(shards)
    readers: dict[str, Any] = {}
    finished: set[str] = set()
    record_filter = RecordFilter(mapping.Filters)
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
                    cursor=source.open(sid, starting_position=mapping.StartingPosition), invoker=handler,
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
    return _report(journal, index_of, metrics, clock.now() - start, mapping, mode)


def _shard_ref(ref: Any, ids: list[str], where: str, before: int | None = None) -> str:
    limit = len(ids) if before is None else before
    if isinstance(ref, int) and not isinstance(ref, bool):
        if 0 <= ref < limit:
            return ids[ref]
    elif isinstance(ref, str) and ref in ids[:limit]:
        return ref
    what = "an earlier shard (index or id)" if before is not None else f"a shard index 0..{len(ids) - 1} or shard id"
    raise SimulationSpecError(f"{where} = {ref!r} is not {what}")


def _shards(spec: Any) -> list[tuple[str, str | None]]:
    """(shard id, parent id) in an order where every parent comes before its children."""
    if isinstance(spec, int) and not isinstance(spec, bool):
        if not 1 <= spec <= MAX_SHARDS:
            raise SimulationSpecError(f"shards must be between 1 and {MAX_SHARDS}, got {spec}")
        return [(f"shardId-00000001700000000000-{k + 1:08d}", None) for k in range(spec)]
    if not isinstance(spec, list) or not 1 <= len(spec) <= MAX_SHARDS:
        raise SimulationSpecError(f"shards must be a count or a list of 1..{MAX_SHARDS} shard objects")
    out: list[tuple[str, str | None]] = []
    ids: list[str] = []
    for k, sh in enumerate(spec):
        if not isinstance(sh, dict) or set(sh) - {"id", "parent"}:
            raise SimulationSpecError(f"shards[{k}] must be an object with optional id and parent")
        sid = sh.get("id", f"shardId-00000001700000000000-{k + 1:08d}")
        if not isinstance(sid, str) or not sid or sid in ids:
            raise SimulationSpecError(f"shards[{k}].id {sid!r} must be a unique non-empty string")
        ids.append(sid)
        parent = sh.get("parent")
        out.append((sid, None if parent is None else _shard_ref(parent, ids, f"shards[{k}].parent", before=k)))
    return out


def _report(journal: Journal, index_of: dict[str, int], metrics: Metrics, elapsed: float, mapping: Any,
            mode: str) -> dict:
    def idx(seqs: list[str] | None) -> list[int]:
        return [index_of[s] for s in seqs or ()]

    invocations, destination, processed, dropped, filtered, trimmed = [], [], [], [], [], []
    state_in: dict[str, Any] = {}
    abandoned = []
    for e in journal.entries():
        kind = e["kind"]
        if kind == "invoked":
            if "state_in" in e:
                state_in[e["invocation_id"]] = e["state_in"]
        elif kind == "invoke_result":
            inv = {"records": idx(e["sequence_numbers"]), "result": e["outcome"], "attempt": e["attempt"],
                   "request_id": e["request_id"], "shard": e["shard_id"]}
            if "lane" in e:
                inv["lane"] = e["lane"]
            if "window_start" in e:
                inv["window"] = {"start": e["window_start"], "end": e["window_start"] + mapping.TumblingWindowInSeconds}
                inv["state_in"] = state_in.pop(e["invocation_id"], None)
                inv["state_out"] = e.get("state_out")
                inv["final"] = e["final"]
                inv["early"] = e["early"]
            if e.get("reason"):
                inv["reason"] = e["reason"]
            if e.get("function_error"):
                inv["function_error"] = e["function_error"]
            if e.get("failed_sequence_numbers"):
                inv["failed"] = idx(e["failed_sequence_numbers"])
            invocations.append(inv)
            processed.extend(idx(e.get("committed_sequence_numbers")))
        elif kind == "destination_write":
            destination.append({"key": e["key"], "destination": e["destination"], "condition": e["condition"],
                                "records": idx(e["sequence_numbers"]), "envelope": e["envelope"],
                                "shard": e["shard_id"]})
        elif kind == "window_abandoned":
            abandoned.append({"shard": e["shard_id"], "window_start": e["window_start"], "reason": e["reason"]})
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
    if abandoned:
        out["windows_abandoned"] = abandoned
    if warnings:
        out["warnings"] = warnings
    return out
