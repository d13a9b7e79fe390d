"""Consumer of the source table's stream: validates orders and maintains a projection table.

Configuration (environment):
- PROJECTION_TABLE (required): the table the projection is written to.
- REPORT_BATCH_ITEM_FAILURES: "true" to answer with `batchItemFailures` (must match the event
  source mapping's FunctionResponseTypes); otherwise the first poison record raises, which
  makes the whole batch fail and lets retries/bisect isolate it (spec §1, §2).
- PROJECTION_WRITE_CONCURRENCY (default 8): how many items' writes may be in flight at once.
  Writes of one item always run in stream order; 1 makes every write wait for the previous one.

A batch is validated first (no I/O), then written (see keyed.py), then one log line per record
outcome is printed in record order. In the raising mode only the records before the first poison
record are written, as before. A failed *write* (throttle, network, permissions) in the raising
mode stops new writes from starting, but writes of other items already in flight complete: they
are logged with their real outcome and, being conditional on the sequence number, are no-ops
("stale") when the batch is retried.

A poison record is one whose item breaks the order contract (see orders.py). Records with a
`replayOf` attribute are replays of earlier failures and are processed like any other.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import boto3

from keyed import run_by_key
from orders import InvalidRecord, parse_key, parse_order, sequence_order
from projection import delete_order, put_order

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64
# Poison that even the partial mode cannot report item-wise: there is no usable itemIdentifier.
BATCH_FATAL_FIELDS = ("dynamodb", "dynamodb.SequenceNumber")
TRUE_VALUES = frozenset({"true", "1", "yes"})
FALSE_VALUES = frozenset({"false", "0", "no", ""})

_clients: dict[tuple[str, str | None, str | None], Any] = {}


class ConfigError(RuntimeError):
    """The function's environment is wrong; the message names the variable."""


class PoisonRecordError(ValueError):
    """A record cannot be processed; the message names its sequence number and field."""

    def __init__(self, sequence_number: str, field: str, reason: str) -> None:
        super().__init__(f"poison record {sequence_number}: field {field!r}: {reason}")
        self.sequence_number = sequence_number
        self.field = field


def _client(service: str) -> Any:
    """One client per endpoint: tests and the local runtime point boto3 elsewhere via AWS_ENDPOINT_URL."""
    key = (service, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION"))
    if key not in _clients:
        _clients[key] = boto3.client(service)
    return _clients[key]


def _config() -> tuple[str, bool]:
    table = os.environ.get("PROJECTION_TABLE", "").strip()
    if not table:
        raise ConfigError("environment variable PROJECTION_TABLE is not set")
    raw = os.environ.get("REPORT_BATCH_ITEM_FAILURES", "false").strip().lower()
    if raw not in TRUE_VALUES | FALSE_VALUES:
        raise ConfigError(f"environment variable REPORT_BATCH_ITEM_FAILURES must be true or false (got {raw!r})")
    return table, raw in TRUE_VALUES


def _concurrency() -> int:
    raw = os.environ.get("PROJECTION_WRITE_CONCURRENCY", "").strip()
    if not raw:
        return DEFAULT_CONCURRENCY
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_CONCURRENCY:
        raise ConfigError(f"environment variable PROJECTION_WRITE_CONCURRENCY must be an integer "
                          f"1..{MAX_CONCURRENCY} (got {raw!r})")
    return int(raw)


def _log(**fields: Any) -> None:
    print(json.dumps(fields, default=str, sort_keys=True), file=sys.stdout, flush=True)


@dataclass(frozen=True)
class _Write:
    """A validated record: what to write, and the fields of its log line (outcome added later)."""

    seq: str
    pk: str
    apply: Callable[[Any, str], str]  # (client, table) -> outcome; raises if the write fails
    log: dict[str, Any] = field(default_factory=dict)


def _plan(record: Any) -> _Write:
    """Validate one record (no I/O). Raises PoisonRecordError naming the sequence number and field."""
    ddb = record.get("dynamodb") if isinstance(record, dict) else None
    if not isinstance(ddb, dict):
        raise PoisonRecordError("<unknown>", "dynamodb", "record has no 'dynamodb' object")
    seq = ddb.get("SequenceNumber")
    try:
        seq_order = sequence_order(seq)
    except InvalidRecord as exc:
        raise PoisonRecordError(str(seq), exc.field, exc.reason) from None
    event_name = record.get("eventName")
    try:
        if event_name in ("INSERT", "MODIFY"):
            order = parse_order(ddb.get("NewImage"))

            def put(client: Any, table: str) -> str:
                applied = put_order(client, table, order, seq, seq_order, event_name)
                return "projected" if applied else "stale"

            return _Write(seq, order.pk, put, {"sequenceNumber": seq, "eventName": event_name, "pk": order.pk,
                                               "replayOf": order.replay_of})
        if event_name == "REMOVE":
            pk = parse_key(ddb.get("Keys"))

            def delete(client: Any, table: str) -> str:
                return "deleted" if delete_order(client, table, pk, seq_order) else "stale"

            return _Write(seq, pk, delete, {"sequenceNumber": seq, "eventName": event_name, "pk": pk})
        raise InvalidRecord("eventName", f"must be INSERT, MODIFY or REMOVE (got {event_name!r})")
    except InvalidRecord as exc:
        raise PoisonRecordError(seq, exc.field, exc.reason) from None


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any] | None:
    """Process a stream batch in order; see module docstring for the two failure modes."""
    table, partial = _config()
    width = _concurrency()
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise ValueError("event has no 'Records' list: not a DynamoDB stream event")
    client = _client("dynamodb")
    planned: list[_Write | PoisonRecordError] = []
    for record in records:
        try:
            planned.append(_plan(record))
        except PoisonRecordError as exc:
            planned.append(exc)
            if not partial or exc.field in BATCH_FATAL_FIELDS:
                break  # nothing after the batch-failing record is written, as with one-by-one processing
    writes = [p for p in planned if isinstance(p, _Write)]
    outcomes = iter(run_by_key(writes, lambda w: w.pk, lambda w: w.apply(client, table), width=width,
                               stop_on_error=not partial))
    failures: list[dict[str, str]] = []
    first_error: Exception | None = None
    for p in planned:
        if isinstance(p, PoisonRecordError):
            if first_error is not None:
                break  # the batch already failed on an earlier write: this record was never reached
            _log(event="record", outcome="poison", sequenceNumber=p.sequence_number, field=p.field, error=str(p))
            if not partial or p.field in BATCH_FATAL_FIELDS:
                # Without a usable sequence number there is nothing to report item-wise:
                # failing the whole batch is what AWS would do with a bad itemIdentifier anyway.
                raise first_error or p
            failures.append({"itemIdentifier": p.sequence_number})
            continue
        outcome = next(outcomes)
        if outcome is None:  # never started: an earlier write failed in the raising mode
            continue
        if isinstance(outcome, Exception):  # the projection write failed (throttle, network, permissions...)
            _log(event="record", outcome="write_failed", sequenceNumber=p.seq,
                 error=f"{type(outcome).__name__}: {outcome}")
            if not partial:
                first_error = first_error or outcome
                continue
            failures.append({"itemIdentifier": p.seq})
            continue
        _log(event="record", outcome=outcome, **p.log)
    if first_error is not None:
        raise first_error
    if partial:
        return {"batchItemFailures": failures}
    return None
