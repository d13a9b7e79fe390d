"""Validation of *order* items as they arrive in a DynamoDB stream NewImage.

Kept free of boto3 and I/O so that scenario code and tests can decide, without a backend,
whether a record is poison. Every rejection names the field at fault, because a poison
record is only actionable when the operator can see which attribute broke the contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

STATUSES = frozenset({"NEW", "PAID", "SHIPPED", "CANCELLED"})
PK_PATTERN = re.compile(r"^order#[A-Za-z0-9_-]+$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
SEQUENCE_PATTERN = re.compile(r"^[0-9]{1,40}$")
# Stream sequence numbers are 21..40 digits (spec §6); DynamoDB's N type keeps only 38
# significant digits, so ordering is done on a zero-padded string of this width instead.
SEQUENCE_WIDTH = 40
REPLAY_MARKER = "replayOf"


class InvalidRecord(ValueError):
    """A record breaks the order contract; `field` names the attribute at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"field {field!r}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Order:
    """A validated order, in the shape the projection stores."""

    pk: str
    order_id: str
    amount: Decimal
    currency: str
    status: str
    replay_of: Mapping[str, Any] | None = None  # raw DynamoDB attribute value, passed through


def sequence_order(sequence_number: object) -> str:
    """Turn a stream sequence number into a key that sorts like the integer it spells."""
    if not isinstance(sequence_number, str) or not SEQUENCE_PATTERN.match(sequence_number):
        raise InvalidRecord(
            "dynamodb.SequenceNumber", f"must be a string of 1..{SEQUENCE_WIDTH} digits (got {sequence_number!r})"
        )
    return sequence_number.rjust(SEQUENCE_WIDTH, "0")


def _typed(image: Mapping[str, Any], name: str, type_code: str) -> str:
    attr = image.get(name)
    if attr is None:
        raise InvalidRecord(name, "is missing")
    if not isinstance(attr, Mapping) or set(attr) != {type_code} or not isinstance(attr[type_code], str):
        raise InvalidRecord(name, f"must be a DynamoDB {type_code} attribute (got {attr!r})")
    return attr[type_code]


def parse_key(keys: object) -> str:
    """The projection key of a record, from `dynamodb.Keys` (all a REMOVE event carries)."""
    if not isinstance(keys, Mapping):
        raise InvalidRecord("dynamodb.Keys", f"must be an object (got {type(keys).__name__})")
    pk = _typed(keys, "pk", "S")
    if not PK_PATTERN.match(pk):
        raise InvalidRecord("pk", f"must look like 'order#<id>' (got {pk!r})")
    return pk


def parse_order(image: object) -> Order:
    """Validate a NewImage; raise InvalidRecord naming the first field at fault."""
    if not isinstance(image, Mapping):
        raise InvalidRecord("dynamodb.NewImage", "is missing (the stream must carry NEW_IMAGE or NEW_AND_OLD_IMAGES)")
    pk = _typed(image, "pk", "S")
    if not PK_PATTERN.match(pk):
        raise InvalidRecord("pk", f"must look like 'order#<id>' (got {pk!r})")
    order_id = _typed(image, "orderId", "S")
    if not order_id.strip():
        raise InvalidRecord("orderId", "must not be empty")
    raw_amount = _typed(image, "amount", "N")
    try:
        amount = Decimal(raw_amount)
    except InvalidOperation:
        raise InvalidRecord("amount", f"is not a number (got {raw_amount!r})") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidRecord("amount", f"must be > 0 (got {raw_amount})")
    currency = _typed(image, "currency", "S")
    if not CURRENCY_PATTERN.match(currency):
        raise InvalidRecord("currency", f"must be 3 upper-case letters (got {currency!r})")
    status = _typed(image, "status", "S")
    if status not in STATUSES:
        raise InvalidRecord("status", f"must be one of {'|'.join(sorted(STATUSES))} (got {status!r})")
    replay_of = image.get(REPLAY_MARKER)
    if replay_of is not None and not isinstance(replay_of, Mapping):
        raise InvalidRecord(REPLAY_MARKER, f"must be a DynamoDB attribute value (got {replay_of!r})")
    return Order(pk, order_id, amount, currency, status, replay_of)
