"""An in-memory stream: the simulation's source, and a stand-in for a DynamoDB or Kinesis
stream in tests (its StreamKind says how to read its records; by default the one its ARN names).

Records become visible at their arrival time on the given clock, so batching windows and record
age behave as on a live stream. Shards may be closed and may have parents (spec 8).
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field
from typing import Callable

from harness.esm.records import Record
from harness.esm.sources import ShardInfo
from harness.esm.sources.kind import StreamKind


@dataclass
class _Shard:
    shard_id: str
    parent_shard_id: str | None
    records: list[Record] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    closed: bool = False


class MemoryStreamSource:
    """Thread-safe; `append` models a table write, `close_shard` a shard rollover."""

    def __init__(self, stream_arn: str, now: Callable[[], float] | None = None, kind: StreamKind | None = None) -> None:
        from harness.esm.sources.dynamodb_streams import DYNAMODB
        from harness.esm.sources.registry import kind_for_arn

        self.stream_arn = stream_arn
        self.kind = kind or kind_for_arn(stream_arn) or DYNAMODB
        self._now = now
        self._shards: dict[str, _Shard] = {}
        self._lock = threading.Lock()

    def add_shard(self, shard_id: str, parent_shard_id: str | None = None) -> None:
        with self._lock:
            if shard_id in self._shards:
                raise ValueError(f"shard {shard_id!r} already exists")
            self._shards[shard_id] = _Shard(shard_id, parent_shard_id)

    def append(self, shard_id: str, records: list[Record]) -> None:
        """Records must come in increasing sequence-number order per shard."""
        with self._lock:
            sh = self._shard(shard_id)
            if sh.closed:
                raise ValueError(f"shard {shard_id!r} is closed")
            seq, arrival = self.kind.seq, self.kind.arrival
            for r in records:
                n = int(seq(r))
                t = arrival(r) or 0
                if sh.seqs and n <= sh.seqs[-1]:
                    raise ValueError(f"sequence number {seq(r)} is not after {sh.seqs[-1]} in shard {shard_id!r}")
                if sh.arrivals and t < sh.arrivals[-1]:
                    raise ValueError(f"record {seq(r)} arrives before its predecessor in shard {shard_id!r}")
                sh.records.append(r)
                sh.seqs.append(n)
                sh.arrivals.append(t)

    def close_shard(self, shard_id: str) -> None:
        with self._lock:
            self._shard(shard_id).closed = True

    def _shard(self, shard_id: str) -> _Shard:
        try:
            return self._shards[shard_id]
        except KeyError:
            raise ValueError(f"no shard {shard_id!r} in {self.stream_arn}") from None

    def next_arrival(self) -> float | None:
        """The earliest arrival time still in the future (lets a simulation skip idle time)."""
        if self._now is None:
            return None
        now = self._now()
        best = None
        with self._lock:
            for sh in self._shards.values():
                i = bisect.bisect_right(sh.arrivals, now)
                if i < len(sh.arrivals):
                    best = sh.arrivals[i] if best is None else min(best, sh.arrivals[i])
        return best

    def list_shards(self) -> list[ShardInfo]:
        with self._lock:
            return [ShardInfo(s.shard_id, s.parent_shard_id, s.closed) for s in self._shards.values()]

    def open(self, shard_id: str, *, starting_position: str, after_sequence: str | None = None,
             timestamp: float | None = None) -> "MemoryCursor":
        with self._lock:
            sh = self._shard(shard_id)
            if after_sequence is not None:
                pos = bisect.bisect_right(sh.seqs, int(after_sequence))
            elif starting_position == "LATEST":
                pos = len(sh.records)
            elif starting_position == "AT_TIMESTAMP":
                # The first record that arrived at or after the timestamp (GetShardIterator AT_TIMESTAMP).
                pos = bisect.bisect_left(sh.arrivals, timestamp if timestamp is not None else 0.0)
            else:
                pos = 0
        return MemoryCursor(self, sh, pos)


class MemoryCursor:
    def __init__(self, source: MemoryStreamSource, shard: _Shard, pos: int) -> None:
        self._source = source
        self._shard = shard
        self._pos = pos

    def read(self, limit: int) -> tuple[list[Record], bool]:
        src, sh = self._source, self._shard
        with src._lock:
            end = min(len(sh.records), self._pos + limit)
            if src._now is not None:
                now = src._now()
                stop = self._pos
                end = min(end, bisect.bisect_right(sh.arrivals, now, lo=stop))
            out = sh.records[self._pos:end]
            self._pos = end
            finished = sh.closed and self._pos >= len(sh.records)
        return out, finished

