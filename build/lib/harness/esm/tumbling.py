"""Tumbling windows (spec 7.1, DOC services-ddb-windows): the window a record belongs to, the
extra fields a window invoke carries, and the rule for reading the function's `state` back.

Documented by AWS (services-ddb-windows / services-kinesis-windows):
- boundaries come from "the time when records were inserted into the stream" (here the
  record's ApproximateCreationDateTime), so windows are aligned to the epoch: [k*W, (k+1)*W);
- every invoke receives `state`; the response "must contain a state property", otherwise
  "Lambda considers this a failed invocation";
- `isFinalInvokeForWindow` marks the last invoke of a window; then "the state is dropped";
- "When the shard ends, Lambda considers the window closed, and the child shards start their
  own window in a fresh state";
- state is at most 1 MB per shard: "If it exceeds that size, Lambda terminates the window early";
  `isWindowTerminatedEarly`: "Subsequent invoke will continue the same window with a fresh state";
- "Tumbling windows fully support the existing retry policies maxRetryAttempts and maxRecordAge".

[GAP] choices (each one is marked where it is applied):
- the final invoke is made once the window has closed by the clock (now >= end) and every
  record of the window has been read; it carries the window's records not yet invoked, possibly
  none (`Records: []`);
- a shard that ends before its window's end closes the window with a final invoke flagged
  `isWindowTerminatedEarly: true` as well;
- a window-closing invoke that carries no records and keeps failing is abandoned (journal
  `window_abandoned`, state dropped, shard continues) when retries run out, or, with infinite
  retries, once the window ended more than the stream retention ago (no record of it can remain);
- a partial batch response with state: the returned state is adopted (the function chose it
  knowing which records it reported as failed); after a function error or an invalid response
  the state of the last successful invoke is kept for the retry;
- `state: null` in the response counts as `{}`; any other non-object state is an invalid response.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from harness.esm.destinations import iso_seconds

MAX_STATE_BYTES = 1024 * 1024  # "a maximum of 1 MB per shard"


def window_start(arrival_s: float, width_s: int) -> int:
    """Epoch-aligned start of the window a record arriving at `arrival_s` belongs to."""
    return int(math.floor(arrival_s / width_s) * width_s)


@dataclass
class Window:
    """One open window of one shard; the reader owns it, the processor updates its state."""

    start: int
    end: int
    state: dict[str, Any] = field(default_factory=dict)
    final: bool = False            # the batch being processed is the window's last
    terminated_early: bool = False  # closed by the shard's end before `end`
    closed: bool = False           # a final invoke succeeded or the close was abandoned
    invokes: int = 0

    def event(self, records: list[Any], *, shard_id: str, stream_arn: str, final: bool, early: bool) -> dict[str, Any]:
        """The invoke event, keys in the order of AWS's DynamodbTimeWindowEvent example."""
        return {"Records": records,
                "window": {"start": iso_seconds(self.start), "end": iso_seconds(self.end)},
                "state": self.state, "shardId": shard_id, "eventSourceARN": stream_arn,
                "isFinalInvokeForWindow": final, "isWindowTerminatedEarly": early}


def read_state(payload: bytes | None) -> tuple[bool, dict[str, Any] | None, Any, str]:
    """Parse a window invoke's response: (ok, state, parsed response, reason if not ok)."""
    if payload is None or payload.strip() == b"":
        return False, None, None, "tumbling window response has no state property"
    try:
        resp = json.loads(payload)
    except ValueError:
        return False, None, None, "response is not JSON"
    if not isinstance(resp, dict) or "state" not in resp:
        return False, None, resp, "tumbling window response has no state property"
    state = resp["state"]
    if state is None:
        state = {}  # [GAP] null state counts as an empty one
    if not isinstance(state, dict):
        return False, None, resp, f"tumbling window state must be an object, got {type(state).__name__}"
    return True, state, resp, ""


def state_size(state: dict[str, Any]) -> int:
    return len(json.dumps(state, separators=(",", ":")))
