"""The per-batch failure state machine (spec 0-2): invoke, classify the response, then retry,
bisect, checkpoint a partial success, expire old records, or discard to the destination.

One processor serves one (mapping, shard) and handles one batch at a time, in shard order.
Everything it decides is written to the journal, which is the only thing reports read.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

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


def classify(result: InvokeResult, records: list[Record], report_batch_item_failures: bool) -> Outcome:
    """Spec 2.2/2.3: the response is read only with ReportBatchItemFailures. Success: [] / null
    list / {} / null / "" / []. Complete failure: empty-string, null, bad-key or unknown ids."""
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
    index = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(records)}
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


class _Unit:
    """A contiguous run of records retried together, with its own counts (spec 0.3, 2.1)."""

    __slots__ = ("records", "retries", "invokes", "service_errors", "request_id", "function_error", "responded")

    def __init__(self, records: list[Record], retries: int = 0, invokes: int = 0) -> None:
        self.records = records
        self.retries = retries  # counted retries: function errors and failed responses only
        self.invokes = invokes  # invocations that reached the function (approximateInvokeCount)
        self.service_errors = 0
        self.request_id: str | None = None
        self.function_error: str | None = None
        self.responded = False


class BatchProcessor:
    """Runs one batch to completion: every record ends committed, discarded or dropped."""

    def __init__(self, *, uuid: str, shard_id: str, mapping: MappingConfig, settings: EngineSettings,
                 invoker: Any, destinations: DestinationSender | None, clock: Any, metrics: Metrics,
                 journal: Any, commit: Callable[[str, str], None], sleep: Callable[[float], None]) -> None:
        self.uuid = uuid
        self.shard_id = shard_id
        self.m = mapping
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
    def run(self, records: list[Record], batch_id: str) -> None:
        self._j("batch_formed", batch_id=batch_id, sequence_numbers=[r["dynamodb"]["SequenceNumber"] for r in records])
        work: deque[_Unit] = deque([_Unit(records)])
        max_age = self.m.MaximumRecordAgeInSeconds
        max_retries = self.m.MaximumRetryAttempts
        while work:
            u = work[0]
            self._trim(u)
            if max_age != -1:
                self._expire(u, max_age)
            if not u.records:
                work.popleft()
                continue
            outcome = self._invoke(u, batch_id)
            if outcome.kind == SERVICE_ERROR:
                # Spec 1: the batch never reached the function: retried, never counted.
                u.service_errors += 1
                self._sleep(self.s.backoff.delay(u.service_errors))
                continue
            u.service_errors = 0
            if outcome.kind == SUCCESS:
                self.commit_records(u.records, "success")
                work.popleft()
                continue
            self.metrics.add("FailedInvokeEventCount", len(u.records))
            # 3.2/2.3: responseContext.functionError is null for partial and invalid responses.
            u.function_error = outcome.function_error
            if outcome.kind == PARTIAL and outcome.first_failed > 0:
                # Spec 0.3 / 2.2 / 2.4: checkpoint at the lowest failed sequence number; the suffix
                # is a new batch with its own retry count (this is also the bisect point with bisect on).
                done, rest = u.records[:outcome.first_failed], u.records[outcome.first_failed:]
                self.commit_records(done, "partial_success")
                self._j("split", batch_id=batch_id, reason="partial_checkpoint",
                        first=[r["dynamodb"]["SequenceNumber"] for r in rest], second=[])
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
                        first=[r["dynamodb"]["SequenceNumber"] for r in a],
                        second=[r["dynamodb"]["SequenceNumber"] for r in b])
                continue
            u.retries += 1
            if exhausted:
                self.discard(u.records, RETRY_EXHAUSTED, u)
                work.popleft()
                continue
            self._sleep(self.s.backoff.delay(u.retries))
        self.flush()

    def _trim(self, u: _Unit) -> None:
        """Spec 8: records past stream retention are gone; they leave without a destination record."""
        horizon = self.clock.now() - self.s.retention_s
        k = 0
        for r in u.records:
            if r["dynamodb"].get("ApproximateCreationDateTime", horizon) < horizon:
                k += 1
            else:
                break
        if k:
            self.flush()
            trimmed, u.records = u.records[:k], u.records[k:]
            seqs = [r["dynamodb"]["SequenceNumber"] for r in trimmed]
            self._j("dropped", condition=None, sequence_numbers=seqs, reason="trimmed by stream retention")
            self._commit(seqs[-1], "trimmed")

    def _expire(self, u: _Unit, max_age: int) -> None:
        """Spec 1 (record age), 3.3: discard only the expired prefix; fresh records go on."""
        now = self.clock.now()
        k = 0
        for r in u.records:
            if now - r["dynamodb"].get("ApproximateCreationDateTime", now) > max_age:
                k += 1
            else:
                break
        if k:
            expired, u.records = u.records[:k], u.records[k:]
            self.discard(expired, RECORD_AGE_EXCEEDED, u)

    def _invoke(self, u: _Unit, batch_id: str) -> Outcome:
        records = u.records
        seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
        attempt = u.invokes + 1
        invocation_id = f"{batch_id}/{self._invocations}"
        self._invocations += 1
        now = self.clock.now()
        self._j("invoked", batch_id=batch_id, invocation_id=invocation_id, sequence_numbers=seqs, attempt=attempt,
                retries=u.retries, function_name=self.m.FunctionName)
        self.metrics.add("InvokedEventCount", len(records))
        last = records[-1]["dynamodb"].get("ApproximateCreationDateTime")
        if last is not None:
            self.metrics.iterator_age(max(0.0, (now - last) * 1000.0))
        try:
            if self._fast is not None:
                result = self._fast(self.m.FunctionName, {"Records": records})
            else:
                payload = json.dumps({"Records": records}).encode()
                result = self.invoker.invoke(self.m.FunctionName, payload)
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
        outcome = classify(result, records, self.m.report_batch_item_failures)
        counted = outcome.kind in (FUNCTION_ERROR, INVALID) or (outcome.kind == PARTIAL and outcome.first_failed == 0)
        self._j("invoke_result", batch_id=batch_id, invocation_id=invocation_id, request_id=u.request_id,
                sequence_numbers=seqs, attempt=attempt,
                outcome=outcome.kind, function_error=outcome.function_error, counted=counted,
                failed_sequence_numbers=outcome.failed, reason=outcome.reason or None,
                committed_sequence_numbers=seqs if outcome.kind == SUCCESS
                else seqs[:outcome.first_failed] if outcome.kind == PARTIAL else [])
        return outcome

    # -- endings -----------------------------------------------------------------------------
    def commit_records(self, records: list[Record], reason: str) -> None:
        if records:
            self.flush()
            self._commit(records[-1]["dynamodb"]["SequenceNumber"], reason)

    def discard(self, records: list[Record], condition: str, u: _Unit) -> None:
        """Spec 1 (end of retries), 3: to the destination if any, else dropped; then past them."""
        count = max(1, u.invokes)  # 3.2: 1 for records that were never invoked
        if self.s.consolidate_bisect_failures and self._pending is not None and self._pending[1] == condition:
            p = self._pending
            p[0] = p[0] + records
            p[2] = max(p[2], count)
            p[3], p[4] = u.request_id or p[3], u.function_error
            return
        self.flush()
        self._pending = [records, condition, count, u.request_id, u.function_error]
        if not self.s.consolidate_bisect_failures:
            self.flush()

    def flush(self) -> None:
        if self._pending is None:
            return
        records, condition, count, request_id, function_error = self._pending
        self._pending = None
        seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
        dest = self.m.OnFailureDestination
        if dest is None:
            self.metrics.add("DroppedEventCount", len(records))
            self._j("dropped", condition=condition, sequence_numbers=seqs, reason="no destination")
            self._commit(seqs[-1], "dropped")
            return
        env = build_envelope(
            request_id=request_id or str(uuidlib.uuid4()), function_arn=self.m.FunctionArn, condition=condition,
            approximate_invoke_count=count, function_error=function_error, executed_version="$LATEST",
            timestamp=self.clock.now(), shard_id=self.shard_id, records=records, stream_arn=self.m.EventSourceArn)
        failure = FailureRecord(dest, self.uuid, self.shard_id, env, records)
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
                self._j("dropped", condition=condition, sequence_numbers=seqs, reason="destination delivery failed")
                self._commit(seqs[-1], "dropped")
                return
            self.metrics.add("OnFailureDestinationDeliveredEventCount", len(records))
            self._j("destination_write", condition=condition, sequence_numbers=seqs, destination=dest,
                    destination_type=delivery.kind, key=delivery.key, envelope=delivery.envelope)
            self._commit(seqs[-1], "destination")
            return
