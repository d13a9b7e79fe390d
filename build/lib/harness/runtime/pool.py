"""The warm workers of one function: who serves the next invoke, and the invoke itself.

Lambda gives each concurrent invoke its own execution environment; here that is up to
`max_workers` processes per function, extra invokes queue for the next free one.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from harness.invoke import InvokeResult, InvokeServiceError
from harness.runtime.errors import error_type_of, init_timeout_error, timeout_error, timeout_message
from harness.runtime.invocation import EXIT, INIT_ERROR, RESPONSE, STOPPED, TIMEOUT, Invocation
from harness.runtime.languages import Launch
from harness.runtime.spec import FunctionSpec
from harness.runtime.worker import Worker

# Lambda's init phase limit for on-demand functions: a handler module that never finishes
# importing fails the invoke instead of hanging the harness.
INIT_TIMEOUT_S = 10.0
LOG_TAIL_BYTES = 4096


class FunctionPool:
    def __init__(
        self,
        spec: FunctionSpec,
        launch: Launch,
        *,
        base_environment: dict[str, str],
        region: str,
        journal: Any,
        max_workers: int,
    ) -> None:
        self.spec = spec
        self.launch = launch
        self._base_env = dict(base_environment)
        self._region = region
        self._journal = journal
        self._max_workers = max_workers
        self._cond = threading.Condition()
        self._workers: set[Worker] = set()
        self._idle: list[Worker] = []
        self._closed = False

    # ---- worker lifecycle -------------------------------------------------------------------
    def _spawn_locked(self) -> Worker:
        worker = Worker(
            self.spec, self.launch, base_environment=self._base_env, region=self._region,
            journal=self._journal, on_exit=self._on_worker_exit,
        )
        self._workers.add(worker)
        return worker

    def warm(self) -> None:
        """Keep one initialised-or-initialising worker ready, as a provisioned environment would."""
        with self._cond:
            if not self._closed and not any(w.usable for w in self._workers):
                self._idle.append(self._spawn_locked())
                self._cond.notify()

    def _acquire(self) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise InvokeServiceError(f"function {self.spec.name!r} is no longer served (runtime stopped)")
                while self._idle:
                    worker = self._idle.pop()  # LIFO: the most recently used process is the warmest
                    if worker.usable:
                        return worker
                    self._workers.discard(worker)
                if len(self._workers) < self._max_workers:
                    return self._spawn_locked()
                self._cond.wait(0.5)

    def _release(self, worker: Worker) -> None:
        replace = False
        with self._cond:
            if worker.usable and not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
            self._workers.discard(worker)
            self._cond.notify()
            # A worker that had initialised and then timed out or crashed is replaced at once;
            # one that failed init is not (that would loop): the next invoke re-inits, as on AWS.
            replace = not self._closed and worker.initialized and not any(w.usable for w in self._workers)
        worker.close(stopping=False, wait_s=0)
        if replace:
            self.warm()

    def _on_worker_exit(self, worker: Worker) -> None:
        with self._cond:
            if worker in self._idle:
                self._idle.remove(worker)
                self._workers.discard(worker)
            self._cond.notify_all()

    def retire(self) -> None:
        """Stop taking invokes; those in flight finish on their worker, which then exits."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for worker in idle:
            worker.close(stopping=False)

    def close(self) -> None:
        """Stop now: every process is killed, invokes in flight raise InvokeServiceError."""
        with self._cond:
            self._closed = True
            workers = list(self._workers)
            self._idle = []
            self._cond.notify_all()
        for worker in workers:
            worker.close(stopping=True)

    # ---- invoke -------------------------------------------------------------------------------
    def invoke(self, payload: bytes) -> InvokeResult:
        began = time.monotonic()
        for _ in range(3):
            worker = self._acquire()
            cold = not worker.initialized
            inv = Invocation(payload=payload, timeout_s=self.spec.timeout_s)
            if worker.assign(inv):
                break
            self._release(worker)  # died between acquire and assign: the function was not reached
        else:
            raise InvokeServiceError(f"function {self.spec.name!r}: no runtime worker could take the invoke")
        memory_used: int | None = None
        try:
            if not inv.progressed.wait(INIT_TIMEOUT_S):
                worker.abandon(inv, TIMEOUT, init_timeout_error(inv.request_id, INIT_TIMEOUT_S))
            elif inv.outcome is None and inv.deadline_mono is not None:
                if not inv.done.wait(max(0.0, inv.deadline_mono - time.monotonic())):
                    worker.abandon(inv, TIMEOUT, timeout_error(inv.request_id, self.spec.timeout_s))
            if not inv.done.wait(5.0):  # every path above completes it; this only guards a bug
                worker.abandon(inv, EXIT, b'{"errorType":"Runtime.Unknown","errorMessage":"lost invocation"}')
            if worker.usable:
                memory_used = worker.max_memory_mb()
        finally:
            if inv.outcome is None:  # the caller was interrupted (KeyboardInterrupt...): free the worker
                worker.abandon(inv, STOPPED, b"")
            self._release(worker)
        if inv.outcome == STOPPED:
            raise InvokeServiceError(f"local runtime stopped while invoking {self.spec.name!r}")
        return self._result(inv, worker, cold, memory_used, began)

    def _result(self, inv: Invocation, worker: Worker, cold: bool, memory_used: int | None, began: float) -> InvokeResult:
        function_error = None if inv.outcome == RESPONSE else "Unhandled"
        error_type = None if function_error is None else error_type_of(inv.result_payload)
        duration_ms = self.spec.timeout_s * 1000.0 if inv.outcome == TIMEOUT and inv.delivered_mono else inv.duration_ms
        tail = self._log_tail(inv, worker, cold, memory_used, duration_ms, error_type)
        if self._journal is not None:
            self._journal.record(
                "runtime_invoke",
                function=self.spec.name,
                request_id=inv.request_id,
                duration_ms=round(duration_ms, 3),
                function_error=function_error,
                error_type=error_type,
                outcome=inv.outcome,
                cold_start=cold,
                wall_ms=round((time.monotonic() - began) * 1000.0, 3),
            )
        return InvokeResult(
            status_code=200,
            payload=inv.result_payload,
            function_error=function_error,
            request_id=inv.request_id,
            log_tail=tail,
            duration_ms=duration_ms,
        )

    def _log_tail(self, inv: Invocation, worker: Worker, cold: bool, memory_used: int | None,
                  duration_ms: float, error_type: str | None) -> str:
        """START / the function's lines / END / REPORT, cut to the last 4 KB like Invoke's LogResult."""
        rid = inv.request_id
        lines = [f"START RequestId: {rid} Version: $LATEST", *inv.log_lines]
        if inv.outcome == TIMEOUT:
            lines.append(timeout_message(rid, self.spec.timeout_s))
        lines.append(f"END RequestId: {rid}")
        report = (
            f"REPORT RequestId: {rid}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {math.ceil(duration_ms)} ms"
            f"\tMemory Size: {self.spec.memory_mb} MB"
        )
        if memory_used is not None:
            report += f"\tMax Memory Used: {memory_used} MB"
        if cold and worker.init_duration_ms is not None:
            report += f"\tInit Duration: {worker.init_duration_ms:.2f} ms"
        if inv.outcome == TIMEOUT:
            report += "\tStatus: timeout"
        elif inv.outcome in (EXIT, INIT_ERROR):
            report += f"\tStatus: error\tError Type: {error_type}"
        lines.append(report)
        text = "\n".join(lines) + "\n"
        data = text.encode("utf-8")
        if len(data) <= LOG_TAIL_BYTES:
            return text
        return data[-LOG_TAIL_BYTES:].decode("utf-8", "ignore")

