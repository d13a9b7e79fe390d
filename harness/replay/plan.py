"""The replay plan: which stream records, in which order, under which identity.

Why global sequence order: replaying must keep the order of changes to one item (spec 1: "in-order
processing at the item (partition and sort key) level"), also across failure objects, since
bisect consolidation (spec 2.1) can make two objects' sequence ranges interleave. Sorting every
selected record by sequence number keeps each item's changes in order whatever the objects hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

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
    """A canonical text for the item's primary key, e.g. `pk=order#1|sk=line#2`."""
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
            seq = str((rec.get("dynamodb") or {}).get("SequenceNumber", ""))
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
