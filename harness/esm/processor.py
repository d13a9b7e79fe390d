"""The per-batch failure state machine (spec 0-2): invoke, classify the response, then retry,
bisect, checkpoint a partial success, expire old records, or discard to the destination.

One processor serves one (mapping, shard) — or one lane of a shard with ParallelizationFactor
> 1 — and handles one batch at a time, in order. Everything it decides is written to the
journal, which is the only thing reports read.

`steps()` is a generator that yields the seconds to wait before the next attempt (a backoff)
instead of sleeping, so a driver can interleave several batches in one virtual clock (lanes,
shards); `run()` drives it to the end with real sleeps, for one thread per shard.
"""

from __future__ import annotations

import copy
import json
import uuid as uuidlib
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from harness.esm import outcomes
from harness.esm.config import EngineSettings, MappingConfig
from harness.esm.destinations import (
    RECORD_AGE_EXCEEDED,
    RETRY_EXHAUSTED,
    DestinationSender,
    FailureRecord,
    build_envelope,
)
from harness.esm.errors import DestinationDeliveryError
from harness.esm.metrics import Metrics
from harness.esm.records import Record
from harness.esm.sources.dynamodb_streams import DYNAMODB
from harness.esm.sources.kind import StreamKind
from harness.esm.tumbling import MAX_STATE_BYTES, Window, read_state, state_size
from harness.invoke import InvokeResult

# Outcomes of one invocation.
SUCCESS = "success"
FUNCTION_ERROR = "function_error"
PARTIAL = "partial_failure"
INVALID = "invalid_response"
SERVICE_ERROR = "service_error"


class Stopped(Exception):
    """The engine is stopping mid-batch: nothing past the last checkpoint is committed."""


@dataclass
class Outcome:
    kind: str
    function_error: str | None = None
    first_failed: int = -1  # PARTIAL: index of the lowest failed sequence number
    failed: list[str] | None = None
    reason: str = ""
    state: dict[str, Any] | None = None  # tumbling windows: the state the function returned


def classify(result: InvokeResult, records: list[Record], report_batch_item_failures: bool,
             kind: StreamKind = DYNAMODB) -> Outcome:
    """Spec 2.2/2.3: the response is read only with ReportBatchItemFailures. Success: [] / null
    list / {} / null / "" / []. Complete failure: empty-string, null, bad-key or unknown ids.
    An itemIdentifier is the record's sequence number: dynamodb.SequenceNumber or
    kinesis.sequenceNumber (spec 2.2, 10), as the stream kind reads it."""
    if result.function_error:
        return Outcome(FUNCTION_ERROR, function_error=result.function_error)
    if not report_batch_item_failures:
        return Outcome(SUCCESS)
    raw = result.payload
    if raw is None or raw.strip() == b"":
        return Outcome(SUCCESS)
    try:
        resp = json.loads(raw)
    except ValueError:
        return Outcome(INVALID, reason="response is not JSON")
    if not isinstance(resp, dict):
        # null, "", [] succeed (2.3); [GAP] any other non-object response is treated as success
        # too, since it carries no batchItemFailures to act on.
        return Outcome(SUCCESS)
    items = resp.get("batchItemFailures")
    if items is None or items == []:
        return Outcome(SUCCESS)
    if not isinstance(items, list):
        return Outcome(INVALID, reason="batchItemFailures is not a list")
    index = {s: i for i, s in enumerate(kind.seqs(records))}
    first = len(records)
    failed = []
    for item in items:
        if not isinstance(item, dict) or "itemIdentifier" not in item:
            return Outcome(INVALID, reason=f"bad batchItemFailures entry {item!r}")
        ident = item["itemIdentifier"]
        if ident is None or ident == "":
            return Outcome(INVALID, reason=f"itemIdentifier {ident!r}")
        if not isinstance(ident, str) or ident not in index:
            return Outcome(INVALID, reason=f"itemIdentifier {ident!r} is not a sequence number in the batch")
        failed.append(ident)
        first = min(first, index[ident])
    return Outcome(PARTIAL, first_failed=first, failed=failed)


def _has_batch_item_failures(result: InvokeResult) -> bool:
    """The response is a JSON object with a non-empty batchItemFailures list (read only when the
    mapping ignores it, and parsed only when the bytes mention it)."""
    raw = result.payload
    if result.function_error or not raw or b"batchItemFailures" not in raw:
        return False
    try:
        resp = json.loads(raw)
    except ValueError:
        return False
    return isinstance(resp, dict) and isinstance(resp.get("batchItemFailures"), list) and bool(resp["batchItemFailures"])


def classify_window(result: InvokeResult, records: list[Record], report_batch_item_failures: bool,
                    kind: StreamKind = DYNAMODB) -> Outcome:
    """Spec 7.1 (services-ddb-windows): a window invoke's response "must contain a state
    property", else it is a failed invocation (counted like an invalid response, functionError
    null); `batchItemFailures` next to it is read as usual with ReportBatchItemFailures."""
    if result.function_error:
        return Outcome(FUNCTION_ERROR, function_error=result.function_error)
    ok, state, _resp, reason = read_state(result.payload)
    if not ok:
        return Outcome(INVALID, reason=reason)
    outcome = classify(result, records, report_batch_item_failures, kind)
    outcome.state = state
    return outcome


class _Unit:
    """A contiguous run of records retried together, with its own counts (spec 0.3, 2.1)."""

    __slots__ = ("records", "retries", "invokes", "service_errors", "request_id", "function_error", "close",
                 "executed_version")

    def __init__(self, records: list[Record], retries: int = 0, invokes: int = 0, close: str | None = None) -> None:
        self.records = records
        # Tumbling windows: "final" = the window-closing invoke with no records left,
        # "oversize" = the early close after the state passed 1 MB (spec 7.1).
        self.close = close
        self.retries = retries  # counted retries: function errors and failed responses only
        self.invokes = invokes  # invocations that reached the function (approximateInvokeCount)
        self.service_errors = 0
        self.request_id: str | None = None
        self.function_error: str | None = None
        self.executed_version = "$LATEST"  # spec 3.2: the version the last invoke ran


class BatchProcessor:
    """Runs one batch to completion: every record ends committed, discarded or dropped."""

    def __init__(self, *, uuid: str, shard_id: str, mapping: MappingConfig, settings: EngineSettings,
                 invoker: Any, destinations: DestinationSender | None, clock: Any, metrics: Metrics,
                 journal: Any, commit: Callable[[str, str], None], sleep: Callable[[float], None]) -> None:
        self.uuid = uuid
        self.shard_id = shard_id
        self.m = mapping
        self.kind = mapping.kind  # record accessors of this stream kind (sources/kind.py)
        self.s = settings
        self.invoker = invoker
        self.destinations = destinations
        self.clock = clock
        self.metrics = metrics
        self.journal = journal
        self._commit = commit
        self._sleep = sleep
        self._fast = getattr(invoker, "invoke_event", None)  # optional: skips JSON for in-process handlers
        self._pending: list[Any] | None = None  # consolidated discard waiting to be written
        self._invocations = 0

    # -- journal -----------------------------------------------------------------------------
    def _j(self, kind: str, **fields: Any) -> None:
        if self.journal is not None:
            self.journal.record(kind, uuid=self.uuid, shard_id=self.shard_id, **fields)

    # -- driving -----------------------------------------------------------------------------
    def run(self, records: list[Record], batch_id: str, window: Window | None = None) -> None:
        """Process one batch to the end, sleeping through backoffs (one thread per shard)."""
        for delay in self.steps(records, batch_id, window):
            self._sleep(delay)

    def steps(self, records: list[Record], batch_id: str, window: Window | None = None) -> Iterator[float]:
        """Process one batch; yields each backoff (seconds) instead of sleeping through it.
        With `window`, every invoke is a tumbling-window invoke and `window.state` is carried."""
        fields: dict[str, Any] = {} if window is None else {"window_start": window.start}
        seqs = self.kind.seqs
        self._j("batch_formed", batch_id=batch_id, sequence_numbers=seqs(records),
                **fields)
        work: deque[_Unit] = deque([_Unit(records)] if records else [])
        max_age = self.m.MaximumRecordAgeInSeconds
        max_retries = self.m.MaximumRetryAttempts
        while True:
            if not work:
                if window is not None and window.final and not window.closed:
                    # Spec 7.1 [GAP, tumbling.py]: no invoke of this batch closed the window (its
                    # records were discarded, or none were left): close it with an empty final invoke.
                    work.append(_Unit([], close="final"))
                else:
                    break
            u = work[0]
            if u.close is None:
                self._trim(u)
                if max_age != -1:
                    self._expire(u, max_age)
                if not u.records:
                    work.popleft()
                    continue
            elif window is not None and self.clock.now() - window.end > self.s.retention_s:
                self._abandon(u, window, batch_id, "the window ended longer ago than the stream retention")
                work.popleft()
                continue
            final = window is not None and (u.close is not None or (window.final and len(work) == 1))
            early = window is not None and (u.close == "oversize" or (final and window.terminated_early))
            outcome = self._invoke(u, batch_id, window, final, early)
            if outcome.kind == SERVICE_ERROR:
                # Spec 1: the batch never reached the function: retried, never counted.
                u.service_errors += 1
                yield self.s.backoff.delay(u.service_errors)
                continue
            u.service_errors = 0
            if outcome.kind == SUCCESS:
                self.commit_records(u.records, "success")
                work.popleft()
                if window is not None:
                    self._window_success(u, window, outcome, final, work)
                continue
            self.metrics.add("FailedInvokeEventCount", len(u.records))
            # 3.2/2.3: responseContext.functionError is null for partial and invalid responses.
            u.function_error = outcome.function_error
            if outcome.kind == PARTIAL and outcome.first_failed > 0:
                # Spec 0.3 / 2.2 / 2.4: checkpoint at the lowest failed sequence number; the suffix
                # is a new batch with its own retry count (this is also the bisect point with bisect on).
                done, rest = u.records[:outcome.first_failed], u.records[outcome.first_failed:]
                if window is not None and outcome.state is not None:
                    window.state = outcome.state  # [GAP, tumbling.py] adopted once the checkpoint moved
                self.commit_records(done, "partial_success")
                self._j("split", batch_id=batch_id, reason="partial_checkpoint",
                        first=seqs(rest), second=[])
                work[0] = _Unit(rest)
                continue
            splittable = (self.m.BisectBatchOnFunctionError and len(u.records) > 1
                          and (outcome.kind == FUNCTION_ERROR
                               or (outcome.kind == INVALID and self.s.bisect_on_invalid_response)))
            exhausted = max_retries != -1 and u.retries + 1 > max_retries
            if splittable and (self.s.split_on_every_error or exhausted):
                # Spec 2.1: split without consuming the retry quota; halves in order, first first.
                n = len(u.records)
                mid = (n + 1) // 2 if self.s.first_half_larger else n // 2
                a, b = u.records[:mid], u.records[mid:]
                keep = (0, 0) if self.s.reset_retries_on_split else (u.retries, u.invokes)
                work.popleft()
                work.appendleft(_Unit(b, *keep))
                work.appendleft(_Unit(a, *keep))
                self._j("split", batch_id=batch_id, reason=outcome.kind,
                        first=seqs(a), second=seqs(b))
                continue
            u.retries += 1
            if exhausted:
                if u.close is not None and window is not None:
                    self._abandon(u, window, batch_id, "retries exhausted")
                else:
                    self.discard(u.records, RETRY_EXHAUSTED, u)
                work.popleft()
                continue
            yield self.s.backoff.delay(u.retries)
        self.flush()

    def _window_success(self, u: _Unit, window: Window, outcome: Outcome, final: bool, work: deque[_Unit]) -> None:
        if u.close == "oversize":
            window.state = {}  # "Subsequent invoke will continue the same window with a fresh state"
        elif final:
            window.closed = True  # "After processing, the window completes ... the state is dropped"
            window.state = {}
        else:
            window.state = outcome.state if outcome.state is not None else {}
            if state_size(window.state) > MAX_STATE_BYTES:
                # Spec 7.1: "If it exceeds that size, Lambda terminates the window early". [GAP] how:
                # here an immediate empty invoke flagged final + terminated early carries the state.
                work.appendleft(_Unit([], close="oversize"))

    def _abandon(self, u: _Unit, window: Window, batch_id: str, reason: str) -> None:
        """[GAP, tumbling.py] A window close with no records cannot go to a destination; give it up."""
        self._j("window_abandoned", batch_id=batch_id, window_start=window.start, close=u.close,
                attempts=u.invokes, reason=reason)
        if u.close == "final":
            window.closed = True
        window.state = {}

    def _trim(self, u: _Unit) -> None:
        """Spec 8: records past stream retention are gone; they leave without a destination record."""
        horizon = self.clock.now() - self.s.retention_s
        arrival = self.kind.arrival
        k = 0
        for r in u.records:
            a = arrival(r)
            if a is not None and a < horizon:
                k += 1
            else:
                break
        if k:
            self.flush()
            trimmed, u.records = u.records[:k], u.records[k:]
            seqs = self.kind.seqs(trimmed)
            self._j("dropped", condition=None, sequence_numbers=seqs, reason="trimmed by stream retention",
                    cause=outcomes.TRIMMED, retention_s=self.s.retention_s)
            self._commit(seqs[-1], "trimmed")

    def _expire(self, u: _Unit, max_age: int) -> None:
        """Spec 1 (record age), 3.3: discard only the expired prefix; fresh records go on."""
        now = self.clock.now()
        arrival = self.kind.arrival
        k = 0
        for r in u.records:
            a = arrival(r)
            if a is not None and now - a > max_age:
                k += 1
            else:
                break
        if k:
            expired, u.records = u.records[:k], u.records[k:]
            self.discard(expired, RECORD_AGE_EXCEEDED, u)

    def _invoke(self, u: _Unit, batch_id: str, window: Window | None = None, final: bool = False,
                early: bool = False) -> Outcome:
        records = u.records
        seqs = self.kind.seqs(records)
        attempt = u.invokes + 1
        invocation_id = f"{batch_id}/{self._invocations}"
        self._invocations += 1
        now = self.clock.now()
        wf: dict[str, Any] = {}
        if window is not None:
            wf = {"window_start": window.start, "window_end": window.end, "final": final, "early": early,
                  "state_in": copy.deepcopy(window.state)}
        self._j("invoked", batch_id=batch_id, invocation_id=invocation_id, sequence_numbers=seqs, attempt=attempt,
                retries=u.retries, function_name=self.m.FunctionName, **wf)
        self.metrics.add("InvokedEventCount", len(records))
        if records:
            last = self.kind.arrival(records[-1])
            if last is not None:
                self.metrics.iterator_age(max(0.0, (now - last) * 1000.0))
        if window is None:
            event: dict[str, Any] = {"Records": records}
        else:
            event = window.event(records, shard_id=self.shard_id, stream_arn=self.m.stream_arn, final=final,
                                 early=early)
            event["state"] = copy.deepcopy(window.state)  # an in-process handler must not edit ours
        try:
            if self._fast is not None:
                result = self._fast(self.m.invoke_name, event)
            else:
                payload = json.dumps(event).encode()
                result = self.invoker.invoke(self.m.invoke_name, payload)
        except Exception as exc:  # noqa: BLE001
            # InvokeServiceError (spec 1): never reached the function, retried, not counted. Any
            # other invoker failure is treated the same: we cannot claim the function ran.
            self._j("invoke_result", batch_id=batch_id, invocation_id=invocation_id, request_id=None,
                    sequence_numbers=seqs, attempt=attempt, outcome=SERVICE_ERROR, counted=False,
                    throttled=getattr(exc, "throttled", False), error=f"{type(exc).__name__}: {exc}",
                    committed_sequence_numbers=[])
            return Outcome(SERVICE_ERROR)
        u.invokes += 1
        u.request_id = result.request_id or str(uuidlib.uuid4())
        u.executed_version = result.executed_version or "$LATEST"
        if window is None:
            outcome = classify(result, records, self.m.report_batch_item_failures, self.kind)
        else:
            outcome = classify_window(result, records, self.m.report_batch_item_failures, self.kind)
            wf = {"window_start": window.start, "final": final, "early": early, "state_out": outcome.state}
        counted = outcome.kind in (FUNCTION_ERROR, INVALID) or (outcome.kind == PARTIAL and outcome.first_failed == 0)
        # shardproof lint (spec 2.2): failures the function reported that this mapping ignores; read only
        # with ReportBatchItemFailures off (False when on: the outcome above already says).
        ignored = not self.m.report_batch_item_failures and _has_batch_item_failures(result)
        self._j("invoke_result", batch_id=batch_id, invocation_id=invocation_id, request_id=u.request_id,
                sequence_numbers=seqs, attempt=attempt,
                outcome=outcome.kind, function_error=outcome.function_error, counted=counted,
                failed_sequence_numbers=outcome.failed, reason=outcome.reason or None,
                committed_sequence_numbers=seqs if outcome.kind == SUCCESS
                else seqs[:outcome.first_failed] if outcome.kind == PARTIAL else [],
                response_has_batch_item_failures=ignored, **wf)
        return outcome

    # -- endings -----------------------------------------------------------------------------
    def commit_records(self, records: list[Record], reason: str) -> None:
        if records:
            self.flush()
            self._commit(self.kind.seq(records[-1]), reason)

    def discard(self, records: list[Record], condition: str, u: _Unit) -> None:
        """Spec 1 (end of retries), 3: to the destination if any, else dropped; then past them."""
        count = max(1, u.invokes)  # 3.2: 1 for records that were never invoked
        if self.s.consolidate_bisect_failures and self._pending is not None and self._pending[1] == condition:
            p = self._pending
            p[0] = p[0] + records
            p[2] = max(p[2], count)
            p[3], p[4], p[5] = u.request_id or p[3], u.function_error, u.executed_version
            return
        self.flush()
        self._pending = [records, condition, count, u.request_id, u.function_error, u.executed_version]
        if not self.s.consolidate_bisect_failures:
            self.flush()

    def flush(self) -> None:
        if self._pending is None:
            return
        records, condition, count, request_id, function_error, executed_version = self._pending
        self._pending = None
        seqs = self.kind.seqs(records)
        dest = self.m.OnFailureDestination
        if dest is None:
            self.metrics.add("DroppedEventCount", len(records))
            self._j("dropped", condition=condition, sequence_numbers=seqs, reason="no destination",
                    cause=outcomes.drop_cause({"condition": condition}))
            self._commit(seqs[-1], "dropped")
            return
        env = build_envelope(
            request_id=request_id or str(uuidlib.uuid4()), function_arn=self.m.FunctionArn, condition=condition,
            approximate_invoke_count=count, function_error=function_error, executed_version=executed_version,
            timestamp=self.clock.now(), shard_id=self.shard_id, records=records, stream_arn=self.m.stream_arn,
            kind=self.kind)
        failure = FailureRecord(dest, self.uuid, self.shard_id, env, records, self.kind)
        attempt = 0
        while True:
            attempt += 1
            try:
                if self.destinations is None:
                    raise DestinationDeliveryError(f"destination {dest}: the engine was given no destination sender")
                delivery = self.destinations.deliver(failure)
            except DestinationDeliveryError as exc:
                # Spec 7.3 [GAP]: counted; by default the shard is not blocked.
                self.metrics.add("DestinationDeliveryFailures")
                self._j("destination_failure", condition=condition, sequence_numbers=seqs, destination=dest,
                        error=str(exc), attempt=attempt)
                if self.s.block_on_destination_failure:
                    self._sleep(self.s.backoff.delay(attempt))
                    continue
                self.metrics.add("DroppedEventCount", len(records))
                self._j("dropped", condition=condition, sequence_numbers=seqs, reason="destination delivery failed",
                        cause=outcomes.DESTINATION_FAILED)
                self._commit(seqs[-1], "dropped")
                return
            self.metrics.add("OnFailureDestinationDeliveredEventCount", len(records))
            self._j("destination_write", condition=condition, sequence_numbers=seqs, destination=dest,
                    destination_type=delivery.kind, key=delivery.key, envelope=delivery.envelope)
            self._commit(seqs[-1], "destination")
            return
