"""A shard reader for TumblingWindowInSeconds > 0 (spec 7.1; rules and [GAP] choices in
tumbling.py): batches never span two windows, every invoke carries the window and its state,
and each window ends with a final invoke once it has closed by the clock.

When a window's final invoke is made:
- the window is complete: now >= window end and every record of it has been read (a record of a
  later window is buffered, or the last poll found the shard caught up), then the final invoke
  carries the window's records not yet invoked (up to BatchSize), or none;
- or the shard ended (closed and read to the end) before the window's end: the final invoke is
  also flagged isWindowTerminatedEarly ("When the shard ends, Lambda considers the window closed").
An open window with nothing to invoke is IDLE, not busy: `EsmService.drain` does not wait for
windows to close; `next_wake()` includes the window's end so a virtual-time driver gets there.
"""

from __future__ import annotations

from typing import Any

from harness.esm.batcher import Batcher
from harness.esm.shard_reader import FINISHED, IDLE, POLL_LIMIT, WAITING, WORKED, ShardReader
from harness.esm.tumbling import Window, window_start


class WindowedShardReader(ShardReader):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.width = self.m.TumblingWindowInSeconds
        self.window: Window | None = None
        self.caught_up = False  # the last poll returned everything visible

    def _poll(self) -> int:
        polled = not self.source_done and self.passing < self.m.BatchSize
        n = super()._poll()
        if polled:
            self.caught_up = n < POLL_LIMIT
        if self.source_done:
            self.caught_up = True
        return n

    def _next_batch(self) -> str:
        self._poll()
        if self._commit_filtered_only():
            return WORKED
        now = self.clock.now()
        width = self.width
        head = None
        arrival = self.kind.arrival
        if self.passing:
            for r, ok in self.buffer:
                if ok:
                    head = window_start(arrival(r) or 0, width)
                    break
        w = self.window
        if w is not None and (head is None or head > w.start):
            # Nothing of this window is buffered: close it once it is complete, or the shard ended.
            complete = now >= w.end and (head is not None or self.caught_up)
            if complete or self.source_done:
                w.final = True
                w.terminated_early = not complete
                return self._start([], None, w)
            return IDLE
        if head is None:
            if self.source_done and not self.buffer:
                self.finished = True
                return FINISHED
            return IDLE
        if w is None:
            w = self.window = Window(head, head + width)
        size = self.m.BatchSize
        count, later = 0, False
        for r, ok in self.buffer:
            if not ok:
                continue
            if window_start(arrival(r) or 0, width) != w.start:
                later = True
                break
            count += 1
            if count > size:
                break
        closed = now >= w.end
        bw = self.batcher.window_s
        ready = (count >= size or later or closed or self.source_done or bw <= 0
                 or (self.first_polled_at is not None and now - self.first_polled_at >= bw))
        if not ready:
            return WAITING
        take = min(count, size)
        batch = Batcher(take, 0, self.batcher.max_bytes, self.kind).take(self.buffer)
        assert batch is not None
        known_complete = later or self.source_done or (closed and self.caught_up)
        if count <= size and len(batch.records) == take and known_complete and (closed or self.source_done):
            w.final = True
            w.terminated_early = not closed
        self.passing -= len(batch.records)
        self.first_polled_at = now if self.passing else None
        return self._start(batch.records, batch.covers_to, w)

    def _batch_done(self) -> None:
        if self.window is not None and self.window.closed:
            self.window = None  # "the state is dropped"; the next record opens a fresh window

    def next_wake(self) -> float | None:
        wake = super().next_wake()
        if self._gen is None and self.window is not None:
            wake = self.window.end if wake is None else min(wake, self.window.end)
        return wake

    def rewind(self, cursor: Any) -> None:
        super().rewind(cursor)
        # [GAP] after a read error the window's records are read again from the checkpoint; the
        # state built so far is kept (the function has already seen those records at least once).
        if self.window is not None:
            self.window.final = False
