"""ParallelizationFactor > 1 (spec 1 "Ordering and the shard", 7.1): up to N batches of one
shard in flight at once, "in-order processing at the item (partition and sort key) level".

How the harness models it:
- every polled record goes to lane `crc32(item key) % N`, so all changes of one item key go
  through one lane, in stream order; the item key is the stream kind's (sources/kind.py): the
  canonical dynamodb.Keys for DynamoDB, kinesis.partitionKey for Kinesis ("in-order processing
  at the partition-key level"); each lane forms its own batches (BatchSize,
  MaximumBatchingWindowInSeconds, 6 MB) and runs one batch at a time through its own
  BatchProcessor, so retries, bisect, partial batch responses and record age apply per lane batch;
- a failing item key blocks only its lane: the other lanes keep polling and invoking (in virtual
  time their batches interleave with the blocked lane's backoffs);
- the shard checkpoint moves past a record only when it and every earlier record of the shard
  are done (succeeded, filtered, discarded or dropped): at least once, never at most once. After a
  restart, records of fast lanes past the checkpoint are delivered again.

Decisions where AWS documents nothing ([GAP]):
- DestinationConfig: one on-failure record per exhausted lane sub-batch. Its batch info's
  (DDBStreamBatchInfo, KinesisBatchInfo) start/endSequenceNumber are the first and last record *of that lane batch*;
  records of other lanes may lie inside that range. The S3 key uses the shard ID (spec 4); lanes
  are not visible in it. Journal entries carry `lane`.
- Metrics are per mapping as before; counts add up over lanes. IteratorAge is measured per invoke
  (the age of the invoke's last record, spec 7.2) whichever lane made it; IteratorAgeMax is the
  maximum over lanes.
- A blocked lane keeps buffering its records up to MAX_BUFFERED records for the shard; then the
  shard stops polling until the lane moves (the checkpoint cannot pass it anyway).
- With block_on_destination_failure the destination backoff blocks the lane whose delivery failed;
  the other lanes block as soon as their own deliveries fail (the destination is shared).

Concurrency. On a real clock (EsmService against a running function) each lane's batch steps run
on a thread of a per-shard pool of ParallelizationFactor threads, so up to N invokes of one shard
are in flight at once, as on AWS: a consumer that is only safe one batch at a time shows it here.
The shard's thread still polls, forms batches and collects finished steps; the shared checkpoint
state is guarded by a lock. On a virtual clock (simulate, record-age scenarios) invokes take no
time and steps run on the shard's thread one after another, so a run is deterministic.
"""

from __future__ import annotations

import threading
import zlib
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Callable, Iterator

from harness.esm.batcher import Batcher
from harness.esm.processor import BatchProcessor
from harness.esm.reader import FINISHED, IDLE, POLL_LIMIT, WAITING, WORKED, ShardReader
from harness.esm.records import Record
from harness.esm.sources.dynamodb_streams import item_key as _ddb_item_key

MAX_BUFFERED = 20 * POLL_LIMIT
COLLECT_WAIT_S = 0.05  # how long step() waits for a running lane step when it has nothing else to do


def item_key(record: Record) -> str:
    """A DynamoDB record's item key (partition + sort key) as a canonical string."""
    return _ddb_item_key(record)


def lane_of(record: Record, lanes: int, key: Callable[[Record], str] = _ddb_item_key) -> int:
    """Stable across processes (unlike hash()), so a simulation routes the same way every run.
    `key` is the stream kind's item key (DynamoDB's by default)."""
    if lanes == 1:
        return 0
    return zlib.crc32(key(record).encode()) % lanes


class _LaneJournal:
    """Adds `lane` to every journal entry a lane's processor writes."""

    def __init__(self, journal: Any, lane: int) -> None:
        self._journal = journal
        self._lane = lane

    def record(self, kind: str, **fields: Any) -> Any:
        return self._journal.record(kind, lane=self._lane, **fields)


class _Lane:
    __slots__ = ("index", "buffer", "passing", "first_polled_at", "batcher", "processor", "gen", "wake_at",
                 "seqs", "pos", "batches", "future")

    def __init__(self, index: int, batcher: Batcher, processor: BatchProcessor) -> None:
        self.index = index
        self.buffer: deque[tuple[Record, bool]] = deque()
        self.passing = 0
        self.first_polled_at: float | None = None
        self.batcher = batcher
        self.processor = processor
        self.gen: Iterator[float] | None = None
        self.wake_at = 0.0
        self.seqs: list[str] = []
        self.pos = 0
        self.batches = 0
        self.future: Future[float | None] | None = None  # the lane's step running on the pool


def _next_step(gen: Iterator[float]) -> float | None:
    """One step of a lane's batch: the backoff it asks for, or None when the batch is done."""
    return next(gen, None)


class ParallelShardReader(ShardReader):
    """A ShardReader whose batches run in ParallelizationFactor lanes; same step()/next_wake() API."""

    def __init__(self, *, concurrent: bool = False, **kw: Any) -> None:
        super().__init__(**kw)
        m = self.m
        journal = kw.get("journal")
        self.lanes: list[_Lane] = []
        for i in range(m.ParallelizationFactor):
            proc = BatchProcessor(uuid=self.uuid, shard_id=self.shard_id, mapping=m, settings=kw["settings"],
                                  invoker=kw["invoker"], destinations=kw["destinations"], clock=self.clock,
                                  metrics=self.metrics, journal=_LaneJournal(journal, i) if journal is not None else None,
                                  commit=self._lane_commit(i), sleep=self._sleep)
            batcher = Batcher(m.BatchSize, m.MaximumBatchingWindowInSeconds, kw["settings"].max_payload_bytes,
                              self.kind)
            self.lanes.append(_Lane(i, batcher, proc))
        self._order: deque[str] = deque()  # polled sequence numbers not yet behind the checkpoint
        self._done: set[str] = set()
        self._state = threading.RLock()  # _order, _done and the checkpoint; lane commits come from pool threads
        self._pool = (ThreadPoolExecutor(max_workers=m.ParallelizationFactor,
                                         thread_name_prefix=f"esm-lane-{self.shard_id[-8:]}") if concurrent else None)

    # -- checkpoint --------------------------------------------------------------------------
    def _lane_commit(self, i: int) -> Any:
        def commit(sequence_number: str, reason: str) -> None:
            lane = self.lanes[i]
            with self._state:
                seqs, pos, done = lane.seqs, lane.pos, self._done
                while pos < len(seqs):
                    s = seqs[pos]
                    pos += 1
                    done.add(s)
                    if s == sequence_number:
                        break
                lane.pos = pos
                self._advance(reason)
        return commit

    def _advance(self, reason: str) -> None:
        """Move the shard checkpoint over the done prefix of the shard (at least once)."""
        order, done = self._order, self._done
        last = None
        while order and order[0] in done:
            last = order.popleft()
            done.discard(last)
        if last is not None:
            self._commit(last, reason)

    # -- reading -----------------------------------------------------------------------------
    def _poll(self) -> int:
        with self._state:
            return self._poll_locked()

    def _poll_locked(self) -> int:
        if self.source_done:
            return 0
        lanes, size = self.lanes, self.m.BatchSize
        if sum(lane.passing for lane in lanes) >= MAX_BUFFERED or all(lane.passing >= size for lane in lanes):
            return 0
        records, done = self.cursor.read(POLL_LIMIT)
        self.source_done = done
        if not records:
            return 0
        self.seen_any = True
        self.metrics.add("PolledEventCount", len(records))
        now = self.clock.now()
        n = len(lanes)
        active = self.filter.active
        filtered = []
        order = self._order
        seq, key = self.kind.seq, self.kind.item_key
        for r in records:
            s = seq(r)
            order.append(s)
            if active and not self.filter.passes(r):
                filtered.append(s)
                self._done.add(s)
                continue
            lane = lanes[lane_of(r, n, key)]
            lane.buffer.append((r, True))
            lane.passing += 1
            if lane.first_polled_at is None:
                lane.first_polled_at = now
        if filtered:
            self.metrics.add("FilteredOutEventCount", len(filtered))
            if self.journal is not None:
                self.journal.record("filtered", uuid=self.uuid, shard_id=self.shard_id, sequence_numbers=filtered)
            self._advance("filtered")
        return len(records)

    def step(self) -> str:
        if self.finished:
            return FINISHED
        worked = self._poll() > 0
        worked = self._collect() or worked
        clock = self.clock
        for lane in self.lanes:
            if lane.future is not None:
                continue
            now = clock.now()
            if lane.gen is None and lane.passing and lane.batcher.ready(lane.passing, lane.first_polled_at, now,
                                                                         self.source_done):
                batch = lane.batcher.take(lane.buffer)
                assert batch is not None
                lane.passing -= len(batch.records)
                lane.first_polled_at = now if lane.passing else None
                with self._state:
                    lane.seqs = self.kind.seqs(batch.records)
                    lane.pos = 0
                lane.batches += 1
                lane.gen = lane.processor.steps(batch.records, f"{self.shard_id}#L{lane.index}#{lane.batches}")
                lane.wake_at = now
            if lane.gen is not None and lane.wake_at <= now:
                if self._pool is not None:
                    lane.future = self._pool.submit(_next_step, lane.gen)
                else:
                    self._after_step(lane, _next_step(lane.gen))
                worked = True
        running = [lane.future for lane in self.lanes if lane.future is not None]
        if not worked and running:
            # The wait paces this loop and wakes it as soon as a lane's step ends; "worked" makes the
            # caller step again at once instead of sleeping on top of it.
            wait(running, timeout=COLLECT_WAIT_S, return_when=FIRST_COMPLETED)
            self._collect()
            worked = True
        self.in_flight = any(lane.gen is not None for lane in self.lanes)
        if worked:
            return WORKED
        if self.in_flight or any(lane.passing for lane in self.lanes):
            return WAITING
        if self.source_done:
            self.finished = True
            self.close()
            return FINISHED
        return IDLE

    def _collect(self) -> bool:
        """Take the result of every lane step the pool has finished; a step's exception is raised here."""
        collected = False
        for lane in self.lanes:
            future = lane.future
            if future is None or not future.done():
                continue
            lane.future = None
            collected = True
            try:
                delay = future.result()
            except BaseException:
                lane.gen = None  # the batch is abandoned; the service rewinds to the checkpoint
                raise
            self._after_step(lane, delay)
        return collected

    def _after_step(self, lane: _Lane, delay: float | None) -> None:
        if delay is not None:
            lane.wake_at = self.clock.now() + delay
            return
        lane.gen = None
        with self._state:
            if lane.pos < len(lane.seqs):  # the processor accounts for every record; belt and braces
                self._done.update(lane.seqs[lane.pos:])
                lane.pos = len(lane.seqs)
                self._advance("batch_done")

    def close(self) -> None:
        """Let the lane threads go; a step still running finishes on its own (its invoke has a timeout)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    # -- waiting -----------------------------------------------------------------------------
    def next_wake(self) -> float | None:
        wakes = []
        for lane in self.lanes:
            if lane.gen is not None:
                wakes.append(lane.wake_at)
            elif lane.passing:
                d = lane.batcher.deadline(lane.first_polled_at)
                if d is not None:
                    wakes.append(d)
        return min(wakes) if wakes else None

    def retry_wake(self) -> float | None:
        wakes = [lane.wake_at for lane in self.lanes if lane.gen is not None]
        return min(wakes) if wakes else None

    def rewind(self, cursor: Any) -> None:
        # Steps still running would commit into the state being reset: let them end first.
        running = [lane.future for lane in self.lanes if lane.future is not None]
        if running:
            wait(running)
        super().rewind(cursor)
        for lane in self.lanes:
            lane.future = None
            lane.buffer.clear()
            lane.passing = 0
            lane.first_polled_at = None
            lane.gen = None
            lane.seqs, lane.pos = [], 0
            lane.processor._pending = None
        self._order.clear()
        self._done.clear()
