"""Batch formation (spec 7.1, 5): a batch closes at BatchSize records, at the 6 MB payload cap,
or when MaximumBatchingWindowInSeconds has passed since its first record was polled."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from harness.esm.records import Record, size_bytes
from harness.esm.sources.dynamodb_streams import DYNAMODB
from harness.esm.sources.kind import StreamKind

_OVERHEAD = len('{"Records":[]}')


@dataclass
class Batch:
    """`records` are invoked; `covers_to` is the last sequence number the batch accounts for
    (filtered records behind it included), where the checkpoint goes once the batch is done."""

    records: list[Record]
    covers_to: str


class Batcher:
    def __init__(self, batch_size: int, window_s: float, max_bytes: int, kind: StreamKind = DYNAMODB) -> None:
        self.batch_size = batch_size
        self.window_s = window_s
        self.max_bytes = max_bytes
        self.kind = kind

    def ready(self, passing: int, first_polled_at: float | None, now: float, source_done: bool) -> bool:
        """Whether to close a batch now with what is buffered."""
        if passing == 0:
            return False
        if passing >= self.batch_size or source_done or self.window_s <= 0:
            return True
        return first_polled_at is not None and now - first_polled_at >= self.window_s

    def deadline(self, first_polled_at: float | None) -> float | None:
        if first_polled_at is None or self.window_s <= 0:
            return None
        return first_polled_at + self.window_s

    def take(self, buffer: "deque[tuple[Record, bool]]") -> Batch | None:
        """Pop the next batch from the head of `buffer` ((record, passes_filter) pairs). Filtered
        records are swallowed into the batch's coverage; they are never invoked."""
        records: list[Record] = []
        last = None
        total = _OVERHEAD
        size_hint = self.kind.size_hint
        # Exact JSON sizing costs more than the rest of batching; do it only once a cheap
        # over-estimate (2 x the record's size hint + 512 per record) reaches a quarter of the cap.
        estimate = 0
        exact = False
        while buffer:
            rec, passes = buffer[0]
            if passes:
                if len(records) >= self.batch_size:
                    break
                if not exact:
                    estimate += 2 * size_hint(rec) + 512
                    if estimate * 4 > self.max_bytes:
                        exact = True
                        total += sum(size_bytes(r) for r in records)
                if exact:
                    n = size_bytes(rec)
                    if records and total + n > self.max_bytes:
                        break
                    total += n
                records.append(rec)
            buffer.popleft()
            last = rec
        if last is None:
            return None
        return Batch(records, self.kind.seq(last))
