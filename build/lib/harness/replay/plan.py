"""The replay plan: which stream records, in which order, under which identity.

Why global sequence order: replaying must keep the order of changes to one item (spec 1: "in-order
processing at the item (partition and sort key) level"), also across failure objects, since
bisect consolidation (spec 2.1) can make two objects' sequence ranges interleave. Sorting every
selected record by sequence number keeps each item's changes in order whatever the objects hold.

Kinesis records (spec 10) are planned the same way: the "item" is the partition key (Kinesis
keeps order per partition key), the sequence number is kinesis.sequenceNumber, and there is no
image: a Kinesis record is replayed by putting its original partition key and data back
(targets/kinesis.py), so no replayOf marker can travel with it; the ledger alone prevents a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from harness.failures.checks import record_sequence_number
from harness.failures.store import Listed, attribute_text, record_matches

REPLAY_MARKER = "replayOf"


@dataclass(frozen=True)
class PlannedRecord:
    """One stream record to replay, tied to the failure object it came from."""

    object_key: str
    record: dict[str, Any]
    seq: str
    item_key: str
    position: int  # index inside the object's payload

    @property
    def id(self) -> str:
        """`<object key>#<sequence number>`: the ledger key and the table target's replayOf value."""
        return f"{self.object_key}#{self.seq}"

    @property
    def event_name(self) -> str:
        return str(self.record.get("eventName", ""))

    @property
    def source(self) -> str:
        """"kinesis" for a Kinesis record, else "dynamodb"."""
        return "kinesis" if isinstance(self.record.get("kinesis"), dict) else "dynamodb"

    @property
    def partition_key(self) -> str | None:
        """A Kinesis record's partition key (None for DynamoDB records)."""
        pk = (self.record.get("kinesis") or {}).get("partitionKey")
        return pk if isinstance(pk, str) else None

    @property
    def data_b64(self) -> str | None:
        """A Kinesis record's data, base64 as the event carries it (None for DynamoDB records)."""
        data = (self.record.get("kinesis") or {}).get("data")
        return data if isinstance(data, str) else None

    @property
    def new_image(self) -> dict[str, Any] | None:
        return (self.record.get("dynamodb") or {}).get("NewImage")

    @property
    def keys(self) -> dict[str, Any]:
        return (self.record.get("dynamodb") or {}).get("Keys") or {}

    @property
    def replay_of(self) -> str | None:
        """The marker a previous replay left on the item, if this record's image carries it."""
        ddb = self.record.get("dynamodb") or {}
        for image in ("NewImage", "OldImage"):
            attr = (ddb.get(image) or {}).get(REPLAY_MARKER)
            if attr is not None:
                return attribute_text(attr)
        return None


def item_key_of(record: dict[str, Any]) -> str:
    """A canonical text for the item's primary key, e.g. `pk=order#1|sk=line#2`; for a Kinesis
    record its partition key, `partitionKey=order-1`."""
    kin = record.get("kinesis")
    if isinstance(kin, dict):
        pk = kin.get("partitionKey")
        return f"partitionKey={pk}" if isinstance(pk, str) else f"<no partitionKey: eventID {record.get('eventID', '?')}>"
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    if not keys:
        return f"<no Keys: eventID {record.get('eventID', '?')}>"
    return "|".join(f"{name}={attribute_text(keys[name])}" for name in sorted(keys))


def _seq_sort_key(seq: str) -> tuple[int, int | str]:
    return (0, int(seq)) if seq.isdigit() else (1, seq)


def build_plan(listed: Iterable[Listed], match: dict[str, str] | None = None
               ) -> tuple[list[PlannedRecord], list[tuple[PlannedRecord, str]]]:
    """Selected records in replay order, and the duplicates dropped with the id they repeat.

    A stream record can appear in two failure objects (a destination write repeated); it is
    replayed once, under the first object's id, and the duplicate is reported.
    """
    planned: list[PlannedRecord] = []
    for item in listed:
        if item.record is None:
            continue
        for pos, rec in enumerate(item.record.records):
            if match and not record_matches(rec, match):
                continue
            seq = str(record_sequence_number(rec) or "")
            planned.append(PlannedRecord(item.key, rec, seq, item_key_of(rec), pos))
    planned.sort(key=lambda p: (_seq_sort_key(p.seq), p.object_key, p.position))
    seen: dict[tuple[str, str], PlannedRecord] = {}
    unique: list[PlannedRecord] = []
    duplicates: list[tuple[PlannedRecord, str]] = []
    for p in planned:
        # eventID is globally unique (spec 6); fall back to stream + sequence number without it.
        ident = (str(p.record.get("eventID") or p.record.get("eventSourceARN", "")), "" if p.record.get("eventID") else p.seq)
        first = seen.get(ident)
        if first is not None:
            duplicates.append((p, first.id))
            continue
        seen[ident] = p
        unique.append(p)
    return unique, duplicates


__all__ = ["PlannedRecord", "REPLAY_MARKER", "build_plan", "item_key_of"]
