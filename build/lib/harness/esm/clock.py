"""Time sources. The engine never calls `time` directly, so record age, backoff and batching
windows can be exercised in virtual time (a simulated day runs in milliseconds)."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Epoch seconds."""
        ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    """Wall-clock time; `sleep` can be cut short by `wake()` so `stop()` never waits on a backoff."""

    def __init__(self) -> None:
        self._wake = threading.Event()

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._wake.wait(seconds)

    def wake(self) -> None:
        self._wake.set()

    def rearm(self) -> None:
        self._wake.clear()


class VirtualClock:
    """Time that moves only when someone sleeps: a sleep advances it instantly."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._now += seconds

    def advance_to(self, when: float) -> None:
        """Jump forward (never back) to `when`, e.g. to the next record's arrival."""
        with self._lock:
            if when > self._now:
                self._now = when
