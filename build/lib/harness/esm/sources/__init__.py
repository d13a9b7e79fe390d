"""Where stream records come from: a protocol, an in-memory source, and one boto3 source per
stream kind (dynamodb_streams.py, kinesis.py), each with the StreamKind that tells the engine how
to read its records (kind.py; the table of kinds is registry.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from harness.esm.records import Record


@dataclass(frozen=True)
class ShardInfo:
    """One shard as DescribeStream/ListShards shows it; `closed` = it has an EndingSequenceNumber
    (spec 8). A Kinesis shard made by MergeShards has two parents; both come before it."""

    shard_id: str
    parent_shard_id: str | None
    closed: bool
    adjacent_parent_shard_id: str | None = None
    starting_sequence: str | None = None
    ending_sequence: str | None = None

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(p for p in (self.parent_shard_id, self.adjacent_parent_shard_id) if p)


class ShardCursor(Protocol):
    def read(self, limit: int) -> tuple[list[Record], bool]:
        """Next records in order (Lambda-shaped, normalised) and whether the shard is finished:
        closed and read to its end. An open shard never finishes."""
        ...


class StreamSource(Protocol):
    stream_arn: str

    def list_shards(self) -> list[ShardInfo]: ...

    def open(self, shard_id: str, *, starting_position: str, after_sequence: str | None = None) -> ShardCursor:
        """A cursor from TRIM_HORIZON/LATEST, or just after `after_sequence` (a checkpoint).
        Sources that read Kinesis (and the memory source) also take `timestamp=` (epoch seconds)
        with starting_position AT_TIMESTAMP; the engine passes it only then."""
        ...


def parent_first(shards: list[ShardInfo]) -> list[ShardInfo]:
    """Order shards so every parent precedes its children (spec 8: no listing order is promised)."""
    by_id = {s.shard_id: s for s in shards}
    out: list[ShardInfo] = []
    seen: set[str] = set()

    def visit(s: ShardInfo, stack: tuple[str, ...] = ()) -> None:
        if s.shard_id in seen or s.shard_id in stack:
            return
        for pid in s.parents:
            parent = by_id.get(pid)
            if parent is not None:
                visit(parent, stack + (s.shard_id,))
        seen.add(s.shard_id)
        out.append(s)

    for s in shards:
        visit(s)
    return out


__all__ = ["ShardInfo", "ShardCursor", "StreamSource", "parent_first"]
