"""What every stream writer shares: the write and the record read back, the writer's protocol, and
reading a stream's shards in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence


class StreamItemError(ValueError):
    """An item the stream cannot take (a missing key attribute, a write that changes nothing...);
    the message names where the item came from, its index and the field at fault."""


@dataclass(frozen=True)
class StreamAt:
    """Where a writer writes once the stack is deployed; a scenario's Target carries the same two fields."""

    stream_name: str  # the table name (DynamoDB) or the stream name (Kinesis)
    stream_arn: str  # the stream the records are read back from


@dataclass(frozen=True)
class Write:
    """One item entry of a scenario, checked against the stream it goes to."""

    index: int
    op: str  # "put" | "update" | "delete" (DynamoDB) | "record" (Kinesis)
    key: str  # canonical text of the item's key (DynamoDB key attributes; Kinesis partition key)
    item: dict[str, Any]  # what is written: the item, the key (update/delete), or {partitionKey, data}
    set: dict[str, Any] = field(default_factory=dict)  # update only
    remove: tuple[str, ...] = ()  # update only
    event: str = ""  # the stream record it must produce: INSERT, MODIFY, REMOVE, or aws:kinesis:record


@dataclass(frozen=True)
class StreamRecord:
    """A record read back from the stream, with the write it came from (None: not one of ours)."""

    seq: str
    shard: str
    key: str
    arrival: float  # epoch seconds (DynamoDB: whole seconds)
    event: str
    index: int | None
    record: dict[str, Any]  # as Lambda delivers it (normalised by the ESM source)


class StreamWriter(Protocol):
    """Made with what the template says of the stream (`key_schema=`), bound once it is deployed."""

    kind: str

    def bind(self, pipe: Any, target: Any) -> None:
        """Write into `target` (anything with `stream_name` and `stream_arn`) through `pipe`'s backend and journal."""
        ...

    def prepare(self, items: Sequence[Any], *, where: str) -> list[Write]:
        """Check every item against the stream (its key schema...); StreamItemError naming item and field."""
        ...

    def write(self, writes: list[Write]) -> None:
        """Write in order; one `injected` journal entry per write."""
        ...

    def read_back(self, writes: list[Write]) -> list[StreamRecord]:
        """Every record of the stream in shard order (parents first), each mapped to its write."""
        ...


WriterFactory = Callable[..., StreamWriter]


def read_shards(source: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every record of an ESM stream source (harness.esm.sources), as (shard id, Lambda-shaped record),
    shards parents first, each from its horizon to its end (or to what it holds now)."""
    from harness.esm.sources import parent_first

    out: list[tuple[str, dict[str, Any]]] = []
    for shard in parent_first(source.list_shards()):
        cursor = source.open(shard.shard_id, starting_position="TRIM_HORIZON")
        while True:
            records, done = cursor.read(1000)
            out.extend((shard.shard_id, r) for r in records)
            if done or not records:
                break
    return out


def pair_with_writes(records: list[tuple[str, dict[str, Any]]], writes: list[Write],
                     key_of: Callable[[dict[str, Any]], str]) -> list[tuple[tuple[str, dict[str, Any]], int | None]]:
    """Pair (shard, record) with the index of the write that made it: per key, in order (a stream
    keeps the order of one key's changes, spec 8), so updates and deletes of one item map one to one.
    A record no write explains pairs with None (the judge names it)."""
    pending: dict[str, list[int]] = {}
    for w in writes:
        pending.setdefault(w.key, []).append(w.index)
    out = []
    for shard_and_record in records:
        queue = pending.get(key_of(shard_and_record[1]))
        out.append((shard_and_record, queue.pop(0) if queue else None))
    return out


__all__ = ["StreamAt", "StreamItemError", "StreamRecord", "StreamWriter", "Write", "WriterFactory", "pair_with_writes",
           "read_shards"]
