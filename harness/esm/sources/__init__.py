"""Where stream records come from: a protocol plus an in-memory and a boto3 implementation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from harness.esm.records import Record


@dataclass(frozen=True)
class ShardInfo:
    """One shard as DescribeStream shows it; `closed` = it has an EndingSequenceNumber (spec 8)."""

    shard_id: str
    parent_shard_id: str | None
    closed: bool


class ShardCursor(Protocol):
    def read(self, limit: int) -> tuple[list[Record], bool]:
        """Next records in order (Lambda-shaped, normalised) and whether the shard is finished:
        closed and read to its end. An open shard never finishes."""
        ...


class StreamSource(Protocol):
    stream_arn: str

    def list_shards(self) -> list[ShardInfo]: ...

    def open(self, shard_id: str, *, starting_position: str, after_sequence: str | None = None) -> ShardCursor:
        """A cursor from TRIM_HORIZON/LATEST, or just after `after_sequence` (a checkpoint)."""
        ...


def parent_first(shards: list[ShardInfo]) -> list[ShardInfo]:
    """Order shards so every parent precedes its children (spec 8: no listing order is promised)."""
    by_id = {s.shard_id: s for s in shards}
    out: list[ShardInfo] = []
    seen: set[str] = set()

    def visit(s: ShardInfo, stack: tuple[str, ...] = ()) -> None:
        if s.shard_id in seen or s.shard_id in stack:
            return
        parent = by_id.get(s.parent_shard_id or "")
        if parent is not None:
            visit(parent, stack + (s.shard_id,))
        seen.add(s.shard_id)
        out.append(s)

    for s in shards:
        visit(s)
    return out


__all__ = ["ShardInfo", "ShardCursor", "StreamSource", "parent_first"]
