"""One invoke in flight: the handoff point between the caller thread and the Runtime API thread.

Exactly one outcome wins (response, error, init error, timeout, exit): `complete` is first-wins,
so a response racing a timeout can never produce two results, or none.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

# Outcomes
RESPONSE = "response"  # function returned
ERROR = "error"  # function raised; awslambdaric posted /error
INIT_ERROR = "init_error"  # handler module failed to load; /runtime/init/error
TIMEOUT = "timeout"  # platform: ran past timeout_s
EXIT = "exit"  # platform: the worker process died
STOPPED = "stopped"  # the runtime was stopped under the invoke


def new_trace_id() -> str:
    """X-Ray trace header shape Lambda passes as Lambda-Runtime-Trace-Id."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


@dataclass
class Invocation:
    payload: bytes
    timeout_s: float
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    trace_id: str = field(default_factory=new_trace_id)
    delivered_mono: float | None = None
    deadline_mono: float | None = None
    deadline_epoch_ms: int = 0
    finished_mono: float | None = None
    outcome: str | None = None
    result_payload: bytes = b""
    # Bounded: a chatty function must not grow memory; the journal has every line anyway.
    log_lines: deque[str] = field(default_factory=lambda: deque(maxlen=1000))
    # Set on delivery AND on completion, so a caller waiting for delivery also wakes on an early failure.
    progressed: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def mark_delivered(self) -> None:
        now = time.monotonic()
        self.delivered_mono = now
        self.deadline_mono = now + self.timeout_s
        self.deadline_epoch_ms = int((time.time() + self.timeout_s) * 1000)
        self.progressed.set()

    def complete(self, outcome: str, payload: bytes) -> bool:
        """Record the outcome if none is recorded yet; True if this call won."""
        with self._lock:
            if self.outcome is not None:
                return False
            self.outcome = outcome
            self.result_payload = payload
            self.finished_mono = time.monotonic()
        self.done.set()
        self.progressed.set()
        return True

    @property
    def duration_ms(self) -> float:
        """Like REPORT's Duration: from handing the event to the runtime until its answer."""
        if self.delivered_mono is None or self.finished_mono is None:
            return 0.0
        return (self.finished_mono - self.delivered_mono) * 1000.0
