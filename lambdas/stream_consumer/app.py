"""Consumer of the source table's stream: validates orders and maintains a projection table.

Configuration (environment):
- PROJECTION_TABLE (required): the table the projection is written to.
- REPORT_BATCH_ITEM_FAILURES: "true" to answer with `batchItemFailures` (must match the event
  source mapping's FunctionResponseTypes); otherwise the first poison record raises, which
  makes the whole batch fail and lets retries/bisect isolate it (spec §1, §2).

A poison record is one whose item breaks the order contract (see orders.py). Records with a
`replayOf` attribute are replays of earlier failures and are processed like any other.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import boto3

from orders import InvalidRecord, parse_key, parse_order, sequence_order
from projection import delete_order, put_order

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


def _log(**fields: Any) -> None:
    print(json.dumps(fields, default=str, sort_keys=True), file=sys.stdout, flush=True)


def _process(client: Any, table: str, record: Any) -> tuple[str, str]:
    """Apply one record; returns (sequence number, outcome). Raises PoisonRecordError."""
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
            applied = put_order(client, table, order, seq, seq_order, event_name)
            _log(event="record", outcome="projected" if applied else "stale", sequenceNumber=seq,
                 eventName=event_name, pk=order.pk, replayOf=order.replay_of)
            return seq, "projected" if applied else "stale"
        if event_name == "REMOVE":
            pk = parse_key(ddb.get("Keys"))
            deleted = delete_order(client, table, pk, seq_order)
            _log(event="record", outcome="deleted" if deleted else "stale", sequenceNumber=seq,
                 eventName=event_name, pk=pk)
            return seq, "deleted" if deleted else "stale"
        raise InvalidRecord("eventName", f"must be INSERT, MODIFY or REMOVE (got {event_name!r})")
    except InvalidRecord as exc:
        raise PoisonRecordError(seq, exc.field, exc.reason) from None


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any] | None:
    """Process a stream batch in order; see module docstring for the two failure modes."""
    table, partial = _config()
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise ValueError("event has no 'Records' list: not a DynamoDB stream event")
    client = _client("dynamodb")
    failures: list[dict[str, str]] = []
    for record in records:
        try:
            _process(client, table, record)
        except PoisonRecordError as exc:
            _log(event="record", outcome="poison", sequenceNumber=exc.sequence_number, field=exc.field,
                 error=str(exc))
            if not partial or exc.field in ("dynamodb", "dynamodb.SequenceNumber"):
                # Without a usable sequence number there is nothing to report item-wise:
                # failing the whole batch is what AWS would do with a bad itemIdentifier anyway.
                raise
            failures.append({"itemIdentifier": exc.sequence_number})
        except Exception as exc:  # the projection write failed (throttle, network, permissions...)
            seq = (record.get("dynamodb") or {}).get("SequenceNumber", "<unknown>")
            _log(event="record", outcome="write_failed", sequenceNumber=seq, error=f"{type(exc).__name__}: {exc}")
            if not partial:
                raise
            failures.append({"itemIdentifier": seq})
    if partial:
        return {"batchItemFailures": failures}
    return None
