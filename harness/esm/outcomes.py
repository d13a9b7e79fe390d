"""How a stream record ends: the one vocabulary the engine's journal, `simulate`, the oracle, the
observation and the judge share (spec 1, 3, 7.2, 7.3, 8).

A record ends exactly one way:
- `processed`: committed after the consumer succeeded with it;
- `filtered`: no filter matched it (spec 7.1), so it was never invoked;
- `in_failure_record`: sent to the on-failure destination (spec 3);
- `dropped`, with a cause: gone without a failure record.

Drop causes:
- `trimmed`: past stream retention while still unprocessed (spec 8; not in DroppedEventCount);
- `record_age`: older than MaximumRecordAgeInSeconds, with no destination (spec 1, 3.3);
- `retries_exhausted`: MaximumRetryAttempts used up, with no destination (spec 1);
- `destination_failed`: the destination could not be written (spec 7.3 [GAP] default).
"""

from __future__ import annotations

from typing import Any, Mapping

PROCESSED = "processed"
FILTERED = "filtered"
IN_FAILURE_RECORD = "in_failure_record"
DROPPED = "dropped"
OUTCOMES = (PROCESSED, FILTERED, IN_FAILURE_RECORD, DROPPED)

TRIMMED = "trimmed"
RECORD_AGE = "record_age"
RETRIES_EXHAUSTED = "retries_exhausted"
DESTINATION_FAILED = "destination_failed"
DROP_CAUSES = (TRIMMED, RECORD_AGE, RETRIES_EXHAUSTED, DESTINATION_FAILED)

_BY_CONDITION = {"RecordAgeExceeded": RECORD_AGE, "RetryAttemptsExhausted": RETRIES_EXHAUSTED}


def drop_cause(entry: Mapping[str, Any]) -> str:
    """The cause of a journal `dropped` entry. The engine writes `cause`; journals written before
    it did are read from their condition and reason (a trim has no condition)."""
    cause = entry.get("cause")
    if cause in DROP_CAUSES:
        return cause
    if entry.get("reason") == "destination delivery failed":
        return DESTINATION_FAILED
    if entry.get("condition") is None:
        return TRIMMED
    return _BY_CONDITION.get(entry["condition"], RETRIES_EXHAUSTED)
