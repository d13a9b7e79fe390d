"""ESM metrics (spec 7.2), counted per mapping. Names are CloudWatch's; IteratorAge is in ms
(the latest value, plus IteratorAgeMax) as CloudWatch reports it."""

from __future__ import annotations

import threading

COUNTERS = (
    "PolledEventCount", "FilteredOutEventCount", "InvokedEventCount", "FailedInvokeEventCount",
    "DroppedEventCount", "OnFailureDestinationDeliveredEventCount", "DestinationDeliveryFailures",
)


class Metrics:
    def __init__(self) -> None:
        self._values: dict[str, float] = {name: 0.0 for name in COUNTERS}
        self._values["IteratorAge"] = 0.0
        self._values["IteratorAgeMax"] = 0.0
        self._lock = threading.Lock()

    def add(self, name: str, n: float = 1) -> None:
        with self._lock:
            self._values[name] += n

    def iterator_age(self, ms: float) -> None:
        with self._lock:
            self._values["IteratorAge"] = ms
            if ms > self._values["IteratorAgeMax"]:
                self._values["IteratorAgeMax"] = ms

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self._values)


def merge(snapshots: list[dict[str, float]]) -> dict[str, float]:
    out = {name: 0.0 for name in COUNTERS}
    out["IteratorAge"] = 0.0
    out["IteratorAgeMax"] = 0.0
    for s in snapshots:
        for k, v in s.items():
            if k in ("IteratorAge", "IteratorAgeMax"):
                out[k] = max(out[k], v)
            else:
                out[k] += v
    return out
