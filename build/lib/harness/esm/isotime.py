"""ISO-8601 UTC texts of the failure record (spec 3.2, 10): one place for the two precisions."""

from __future__ import annotations

import datetime as dt


def iso_millis(ts: float) -> str:
    """Envelope `timestamp`, and Kinesis approximateArrival*: ISO-8601 UTC with milliseconds."""
    d = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def iso_seconds(epoch_s: float) -> str:
    """DynamoDB approximateArrival*: whole seconds, no ms (spec 3.2)."""
    return dt.datetime.fromtimestamp(int(epoch_s), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
