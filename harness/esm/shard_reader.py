"""One shard reader per (mapping, shard): poll, filter, batch, hand batches to the processor,
keep the checkpoint. `step()` does one unit of work so the same reader runs on a thread with
real time (EsmService) or in a loop on virtual time (simulate).

Blocking (the default, one thread per shard): a batch runs to its end inside one `step()`,
sleeping through backoffs. Non-blocking (simulate with several shards): a backoff ends the
step; the reader reports WAITING until `next_wake()`, so shards sharing one virtual clock each
keep their own pace (spec 1: "Other shards continue")."""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Iterator

from harness.esm.batcher import Batcher
from harness.esm.config import EngineSettings, MappingConfig
from harness.esm.filtering import RecordFilter
from harness.esm.metrics import Metrics
from harness.esm.processor import BatchProcessor
from harness.esm.records import Record
from harness.esm.sources import ShardCursor

POLL_LIMIT = 1000  # GetRecords maximum

IDLE, WORKED, WAITING, FINISHED = "idle", "worked", "waiting", "finished"


class ShardReader:
    def __init__(self, *, uuid: str, shard_id: str, mapping: MappingConfig, settings: EngineSettings,
                 cursor: ShardCursor, invoker: Any, destinations: Any, clock: Any, metrics: Metrics,
                 journal: Any, record_filter: RecordFilter, sleep: Callable[[float], None],
                 checkpoint: str | None = None, blocking: bool = True) -> None:
        self.uuid = uuid
        self.shard_id = shard_id
        self.m = mapping
        self.kind = mapping.kind  # how to read this stream's records (sources/kind.py)
        self.cursor = cursor
        self.clock = clock
        self.metrics = metrics
        self.journal = journal
        self.filter = record_filter
        self.checkpoint = checkpoint  # last sequence number the mapping is done with
        self.buffer: deque[tuple[Record, bool]] = deque()
        self.passing = 0
        self.first_polled_at: float | None = None
        self.source_done = False
        self.finished = False
        self.in_flight = False
        self._batches = 0
        self.seen_any = False
        self.blocking = blocking
        self._sleep = sleep
        self._gen: Iterator[float] | None = None  # the batch in progress (non-blocking mode)
        self._wake_at = 0.0
        self._covers_to: str | None = None
        self.batcher = Batcher(mapping.BatchSize, mapping.MaximumBatchingWindowInSeconds, settings.max_payload_bytes,
                               self.kind)
        self.processor = BatchProcessor(uuid=uuid, shard_id=shard_id, mapping=mapping, settings=settings,
                                        invoker=invoker, destinations=destinations, clock=clock, metrics=metrics,
                                        journal=journal, commit=self._commit, sleep=sleep)

    def _commit(self, sequence_number: str, reason: str) -> None:
        """At least once: called only after records succeeded, were filtered, or were handed off."""
        self.checkpoint = sequence_number
        if self.journal is not None:
            self.journal.record("checkpoint", uuid=self.uuid, shard_id=self.shard_id,
                                sequence_number=sequence_number, reason=reason)

    def _poll(self) -> int:
        want = max(POLL_LIMIT if self.passing < self.m.BatchSize else 0, 0)
        if want == 0 or self.source_done:
            return 0
        records, done = self.cursor.read(want)
        self.source_done = done
        if not records:
            return 0
        self.seen_any = True
        self.metrics.add("PolledEventCount", len(records))
        if self.filter.active:
            filtered = []
            for r in records:
                ok = self.filter.passes(r)
                self.buffer.append((r, ok))
                if ok:
                    self.passing += 1
                else:
                    filtered.append(self.kind.seq(r))
            if filtered:
                self.metrics.add("FilteredOutEventCount", len(filtered))
                if self.journal is not None:
                    self.journal.record("filtered", uuid=self.uuid, shard_id=self.shard_id, sequence_numbers=filtered)
        else:
            self.buffer.extend((r, True) for r in records)
            self.passing += len(records)
        if self.first_polled_at is None and self.passing:
            self.first_polled_at = self.clock.now()
        return len(records)

    def step(self) -> str:
        """One poll and at most one batch. WAITING: records are buffered but the batching window
        is still open, or a batch waits out a backoff; IDLE: nothing to do until new records
        arrive; FINISHED: shard closed and done."""
        if self.finished:
            return FINISHED
        if self._gen is not None:
            if self.clock.now() < self._wake_at:
                return WAITING
            return self._resume()
        return self._next_batch()

    def _start(self, records: list[Record], covers_to: str | None, window: Any = None) -> str:
        self._batches += 1
        self._covers_to = covers_to
        self.in_flight = True
        self._gen = self.processor.steps(records, f"{self.shard_id}#{self._batches}", window)
        return self._resume()

    def _resume(self) -> str:
        assert self._gen is not None
        try:
            while True:
                delay = next(self._gen)
                if self.blocking:
                    self._sleep(delay)
                    continue
                self._wake_at = self.clock.now() + delay
                return WORKED
        except StopIteration:
            pass
        self._gen = None
        self.in_flight = False
        if self._covers_to is not None and self.checkpoint != self._covers_to:
            self._commit(self._covers_to, "batch_done")
        self._batch_done()
        return WORKED

    def _batch_done(self) -> None:
        """Hook for subclasses (tumbling windows)."""

    def _commit_filtered_only(self) -> bool:
        """Only filtered records buffered: nothing to invoke, the checkpoint moves past them (spec 7.1)."""
        if not (self.buffer and self.passing == 0):
            return False
        batch = self.batcher.take(self.buffer)
        if batch is not None:
            self._commit(batch.covers_to, "filtered")
        return True

    def _next_batch(self) -> str:
        got = self._poll()
        if self._commit_filtered_only():
            return WORKED
        now = self.clock.now()
        if not self.batcher.ready(self.passing, self.first_polled_at, now, self.source_done):
            if self.source_done and not self.buffer:
                self.finished = True
                return FINISHED
            return WAITING if self.passing else (WORKED if got else IDLE)
        batch = self.batcher.take(self.buffer)
        assert batch is not None
        self.passing -= len(batch.records)
        self.first_polled_at = self.clock.now() if self.passing else None
        return self._start(batch.records, batch.covers_to)

    def close(self) -> None:
        """Release what the reader holds besides its state (lanes: their threads); safe to call twice."""

    def rewind(self, cursor: ShardCursor) -> None:
        """After an unexpected error: forget everything past the checkpoint and read it again."""
        self.cursor = cursor
        self.buffer.clear()
        self.passing = 0
        self.first_polled_at = None
        self.source_done = False
        self.in_flight = False
        self._gen = None
        self.processor._pending = None

    def next_wake(self) -> float | None:
        """When this reader next has something to do without new records (a backoff ending, a
        batching window closing); a virtual-time driver advances the clock to it."""
        if self._gen is not None:
            return self._wake_at
        return self.batcher.deadline(self.first_polled_at) if self.passing else None

    def retry_wake(self) -> float | None:
        """The end of the backoff a non-blocking reader waits for, if any."""
        return self._wake_at if self._gen is not None else None
