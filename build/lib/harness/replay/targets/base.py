"""What a replay target is: where records go, how many fit in one call, and per-record outcomes.

Why per-record outcomes: a batch call can half-succeed (BatchWriteItem UnprocessedItems, SQS
batch `Failed`, a partial batch response), and only the records that really arrived may enter
the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from harness.replay.plan import PlannedRecord


class TargetError(RuntimeError):
    """The target itself is unusable (missing table or queue); the message names it."""


@dataclass(frozen=True)
class Verdict:
    """A decision made before sending: `skip` (a rule says no) or `fail` (the record cannot go)."""

    action: str  # "skip" | "fail"
    reason: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one record of a chunk."""

    record: PlannedRecord
    ok: bool
    detail: str = ""


class ReplayTarget(Protocol):
    """A destination for replayed records."""

    target_id: str  # "<kind>/<name>": the ledger this target's replays are recorded in
    max_chunk: int  # most records per call
    distinct_keys: bool  # a chunk may not hold two records of the same item
    same_object: bool  # a chunk may only hold records of one failure object

    def prepare(self) -> None:
        """Check the target exists and learn what is needed (read-only; runs in dry runs too)."""
        ...

    def check(self, record: PlannedRecord) -> Verdict | None:
        """A verdict when the record must not be sent; None when it can go."""
        ...

    def describe(self, record: PlannedRecord) -> str:
        """One line saying what sending this record would do (dry run)."""
        ...

    def send(self, chunk: list[PlannedRecord]) -> list[Outcome]:
        """Send a chunk; one Outcome per record, in order. Raise only for the unexpected."""
        ...


__all__ = ["Outcome", "ReplayTarget", "TargetError", "Verdict"]
