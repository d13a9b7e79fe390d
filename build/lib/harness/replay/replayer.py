"""The Replayer: select failure records, order them per item, send them to a target, keep a ledger.

Rules it enforces, and why:
- Dry run by default: replay writes into a live pipeline; acting must be a deliberate choice.
- Ledger (see ledger.py): a record replayed to this target before is not sent again unless
  `force`; a record enters the ledger only after its replay succeeded, so an interrupted run
  resumes where it stopped.
- Loop guard: a record whose image already carries `replayOf` came from an earlier replay; it
  is refused unless `force`, so a still-failing replay cannot circle through the pipeline.
- Order per item: records go in sequence-number order (plan.py); when a record of an item fails,
  that item's later records in this run are held back ("blocked"), not sent out of order.
- A failing record is reported once and the run goes on; the summary says the run failed.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from harness.failures.store import FailureFilters, FailureStore, StoreError
from harness.replay.ledger import S3Ledger
from harness.replay.plan import PlannedRecord, build_plan
from harness.replay.targets.base import Outcome, ReplayTarget

REPLAYED_TAG = "harness-replayed"

# Outcomes a record can have in a run.
REPLAYED, WOULD_REPLAY, ALREADY, SKIPPED, FAILED, BLOCKED, DUPLICATE = (
    "replayed", "would-replay", "already-replayed", "skipped", "failed", "blocked", "duplicate")
FAILING = (FAILED, BLOCKED)


@dataclass(frozen=True)
class RecordResult:
    """What happened to one selected record."""

    id: str
    object_key: str
    seq: str
    item_key: str
    event_name: str
    outcome: str
    detail: str = ""


@dataclass(frozen=True)
class ReplayProgress:
    """Handed to the progress callback after each record is decided."""

    done: int
    total: int
    result: RecordResult


@dataclass
class ReplaySummary:
    """The run's result; `ok` is False when anything failed, was blocked, or could not be read."""

    run_id: str
    target_id: str
    execute: bool
    objects: int = 0
    results: list[RecordResult] = field(default_factory=list)
    malformed: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    tagged: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.outcome] = out.get(r.outcome, 0) + 1
        return out

    @property
    def ok(self) -> bool:
        return not self.malformed and not self.errors and not any(r.outcome in FAILING for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "target": self.target_id, "execute": self.execute, "ok": self.ok,
            "objects": self.objects, "counts": self.counts, "elapsed_s": round(self.elapsed_s, 3),
            "malformed": [{"key": k, "reason": r} for k, r in self.malformed],
            "errors": self.errors, "tagged": self.tagged,
            "records": [r.__dict__ for r in self.results],
        }


class RateLimiter:
    """At most `rate` records per second on average; the first chunk goes at once."""

    def __init__(self, rate: float | None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate is not None and not (math.isfinite(rate) and rate > 0):  # inf/nan: int(rate) fails below
            raise ValueError(f"rate {rate} must be a positive number of records per second")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def acquire(self, n: int) -> None:
        if self.rate is None:
            return
        now = self._clock()
        if self._next is not None and self._next > now:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + n / self.rate


class Replayer:
    """Replays failure records from one bucket to one target."""

    def __init__(
        self,
        store: FailureStore,
        target: ReplayTarget,
        *,
        execute: bool = False,
        force: bool = False,
        rate: float | None = None,
        progress: Callable[[ReplayProgress], None] | None = None,
        journal: Any | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.target = target
        self.execute = execute
        self.force = force
        self.limiter = RateLimiter(rate, clock=clock, sleep=sleep)
        self.max_chunk = max(1, min(target.max_chunk, int(rate) if rate else target.max_chunk))
        self.progress = progress
        self.journal = journal
        self.ledger = S3Ledger(store, target.target_id)

    def run(self, filters: FailureFilters | None = None) -> ReplaySummary:
        """One replay run; raises only when the bucket or target is unusable (or on interrupt)."""
        began = time.perf_counter()
        filters = filters or FailureFilters()
        summary = ReplaySummary(run_id=str(uuid.uuid4()), target_id=self.target.target_id, execute=self.execute)
        listed = self.store.list(filters)
        summary.objects = len(listed)
        summary.malformed = [(item.key, item.error or "") for item in listed if not item.ok]
        plan, duplicates = build_plan(listed, filters.match)
        self.target.prepare()
        done = self.ledger.done()
        total = len(plan) + len(duplicates)
        self._total = total
        self._summary = summary

        for dup, first in duplicates:
            self._emit(dup, DUPLICATE, f"same stream record as {first}")
        sendable: list[PlannedRecord] = []
        failed_keys: dict[str, str] = {}  # item key -> its first record refused by the target's check
        held: dict[str, str] = {}  # record id -> the earlier record of its item that was refused
        for p in plan:
            if p.id in done and not self.force:
                self._emit(p, ALREADY, f"replayed to {self.target.target_id} at {done[p.id]} (ledger)")
            elif p.replay_of is not None and not self.force:
                self._emit(p, SKIPPED, f"refused: its image carries replayOf={p.replay_of} (an earlier replay); "
                                       "use force to replay it again")
            elif (verdict := self.target.check(p)) is not None:
                if verdict.action != "skip":
                    failed_keys.setdefault(p.item_key, p.id)
                self._emit(p, SKIPPED if verdict.action == "skip" else FAILED, verdict.reason)
            elif not self.execute:
                self._emit(p, WOULD_REPLAY, self.target.describe(p))
            else:
                if p.item_key in failed_keys:
                    held[p.id] = failed_keys[p.item_key]
                sendable.append(p)

        if self.execute:
            self._send_all(sendable, held)
            self._tag_objects(summary)
        summary.elapsed_s = time.perf_counter() - began
        return summary

    def _send_all(self, sendable: list[PlannedRecord], held: dict[str, str]) -> None:
        """Send in plan order; `held` (record id -> failed id) are records after a refused one."""
        queue = list(sendable)
        blocked: dict[str, str] = {}  # item key -> the first of its records that failed to send
        i = 0
        while i < len(queue):
            chunk: list[PlannedRecord] = []
            keys: set[str] = set()
            while i < len(queue) and len(chunk) < self.max_chunk:
                p = queue[i]
                failed_first = blocked.get(p.item_key) or held.get(p.id)
                if failed_first is not None:
                    self._emit(p, BLOCKED, f"held back: an earlier record of {p.item_key} failed ({failed_first})")
                    i += 1
                    continue
                if chunk and self.target.same_object and p.object_key != chunk[0].object_key:
                    break
                if self.target.distinct_keys and p.item_key in keys:
                    break
                chunk.append(p)
                keys.add(p.item_key)
                i += 1
            if not chunk:
                continue
            self.limiter.acquire(len(chunk))
            outcomes = self._send(chunk)
            succeeded = [o.record.id for o in outcomes if o.ok]
            if succeeded:
                try:
                    self.ledger.record(succeeded, run_id=self._summary.run_id)
                except StoreError as exc:
                    # The records did arrive; without a ledger entry a re-run would repeat them. Say so.
                    self._summary.errors.append(f"ledger write failed after a successful replay: {exc}")
            for o in outcomes:
                if not o.ok:
                    blocked.setdefault(o.record.item_key, o.record.id)
                self._emit(o.record, REPLAYED if o.ok else FAILED, o.detail)

    def _send(self, chunk: list[PlannedRecord]) -> list[Outcome]:
        try:
            outcomes = self.target.send(chunk)
        except Exception as exc:  # an unexpected fault fails this chunk, not the run
            return [Outcome(p, False, f"{type(exc).__name__}: {exc}") for p in chunk]
        if len(outcomes) != len(chunk):
            return [Outcome(p, False, f"target {self.target.target_id} returned {len(outcomes)} outcomes "
                                      f"for {len(chunk)} records") for p in chunk]
        return outcomes

    def _tag_objects(self, summary: ReplaySummary) -> None:
        """Tag each object that had a record replayed in this run and none failed or blocked."""
        replayed: dict[str, bool] = {}
        for r in summary.results:
            if r.outcome == REPLAYED:
                replayed.setdefault(r.object_key, True)
        for r in summary.results:
            if r.outcome in FAILING:
                replayed[r.object_key] = False
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        for key, clean in replayed.items():
            if not clean:
                continue
            try:
                self.store.add_tag(key, REPLAYED_TAG, stamp)
            except StoreError as exc:
                summary.errors.append(f"could not tag {key}: {exc}")
            else:
                summary.tagged.append(key)

    def _emit(self, p: PlannedRecord, outcome: str, detail: str) -> None:
        result = RecordResult(p.id, p.object_key, p.seq, p.item_key, p.event_name, outcome, detail)
        self._summary.results.append(result)
        if self.journal is not None:
            self.journal.record("replay", target=self.target.target_id, record=p.id, outcome=outcome,
                                detail=detail, run=self._summary.run_id)
        if self.progress is not None:
            self.progress(ReplayProgress(len(self._summary.results), self._total, result))


__all__ = ["FAILING", "REPLAYED_TAG", "RateLimiter", "RecordResult", "ReplayProgress", "ReplaySummary", "Replayer"]
