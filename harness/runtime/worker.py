"""One warm runtime process (`python -m awslambdaric <handler>`, or Node's aws-lambda-ric) and the
Runtime API endpoint it polls. The language kind (harness/runtime/languages) supplies the command
line and the language's variables; everything else here is the same for every language.

Each worker gets its own loopback listener: awslambdaric posts init errors through
`http.client.HTTPConnection(AWS_LAMBDA_RUNTIME_API)`, which cannot carry a path prefix, and a
private port also tells us, without any bookkeeping, which process holds which request.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import threading
import time
import weakref
from typing import Any, Callable

from harness.runtime.environment import worker_environment
from harness.runtime.errors import exit_error
from harness.runtime.http import HttpConnection, HttpProtocolError, Request
from harness.runtime.invocation import ERROR, EXIT, INIT_ERROR, RESPONSE, STOPPED, Invocation
from harness.runtime.languages.base import Launch
from harness.runtime.spec import FunctionSpec

NEXT_PATH = "/2018-06-01/runtime/invocation/next"
INVOCATION_PREFIX = "/2018-06-01/runtime/invocation/"
INIT_ERROR_PATH = "/2018-06-01/runtime/init/error"
_ACCEPTED = b'{"status":"OK"}'
_MAX_PARTIAL_LINE = 256 * 1024

# Every live worker, so the atexit safety net can kill process groups a caller forgot to stop.
LIVE_WORKERS: "weakref.WeakSet[Worker]" = weakref.WeakSet()


class Worker:
    """A runtime process plus its Runtime API listener; serves one invocation at a time."""

    def __init__(
        self,
        spec: FunctionSpec,
        launch: Launch,
        *,
        base_environment: dict[str, str],
        region: str,
        journal: Any = None,
        on_exit: Callable[["Worker"], None] | None = None,
    ) -> None:
        self.spec = spec
        self._journal = journal
        self._on_exit = on_exit
        self._cond = threading.Condition()
        self._pending: Invocation | None = None
        self.current: Invocation | None = None
        self.closed = False
        self.alive = True
        self.stopping = False
        self.killed_on_purpose = False  # timeout, retire or stop: an exit we caused, not a crash
        self.init_error: bytes | None = None
        self.returncode: int | None = None
        self.spawned_mono = time.monotonic()
        self.ready_mono: float | None = None  # first GET /next: init finished

        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.runtime_api = "127.0.0.1:%d" % self._listener.getsockname()[1]
        env = worker_environment(spec, launch, base_environment=base_environment, runtime_api=self.runtime_api,
                                 region=region)
        try:
            self.proc = subprocess.Popen(
                list(launch.argv),
                cwd=str(spec.code_dir),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: kill() takes any children with it
                close_fds=True,
            )
        except OSError as exc:
            self._listener.close()
            raise RuntimeError(f"function {spec.name!r}: could not start a runtime worker: {exc}") from exc
        assert self.proc.stdout is not None
        self._log_fd = self.proc.stdout.fileno()
        os.set_blocking(self._log_fd, False)
        self._log_lock = threading.Lock()
        self._log_eof = False
        self._partial = b""
        LIVE_WORKERS.add(self)

        name = f"lambda-{spec.name}-{self.proc.pid}"
        self._reader = threading.Thread(target=self._read_logs_loop, name=name + "-logs", daemon=True)
        self._acceptor = threading.Thread(target=self._accept_loop, name=name + "-api", daemon=True)
        self._waiter = threading.Thread(target=self._wait_exit, name=name + "-exit", daemon=True)
        for t in (self._reader, self._acceptor, self._waiter):
            t.start()

    # ---- state the pool looks at -------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return self.ready_mono is not None

    @property
    def usable(self) -> bool:
        return self.alive and not self.closed and self.init_error is None

    @property
    def init_duration_ms(self) -> float | None:
        return None if self.ready_mono is None else (self.ready_mono - self.spawned_mono) * 1000.0

    def max_memory_mb(self) -> int | None:
        """Peak RSS (VmHWM) like REPORT's Max Memory Used; None where /proc is unavailable."""
        try:
            with open(f"/proc/{self.proc.pid}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"VmHWM:"):
                        return max(1, round(int(line.split()[1]) / 1024))
        except (OSError, ValueError, IndexError):
            return None
        return None

    # ---- caller side ---------------------------------------------------------------------
    def assign(self, inv: Invocation) -> bool:
        """Hand an invocation to this worker; False if it can no longer take one."""
        with self._cond:
            if not self.usable or self.current is not None:
                return False
            self.current = inv
            self._pending = inv
            self._cond.notify()
            return True

    def abandon(self, inv: Invocation, outcome: str, payload: bytes) -> bool:
        """The platform gives up on `inv` (timeout): record that outcome and kill the process.

        False if the function answered first, in which case its answer stands.
        """
        self.drain_logs()
        with self._cond:
            if inv.outcome is not None:
                return False
            if self.current is inv:
                self.current = None
            if self._pending is inv:
                self._pending = None
            won = inv.complete(outcome, payload)
            if won:
                self.closed = True  # never handed another invoke: it is about to be killed
        if won:
            self.kill()
        return won

    def kill(self) -> None:
        """SIGKILL the whole process group (the runtime and anything it spawned)."""
        self.killed_on_purpose = True
        if self.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self, *, stopping: bool = True, wait_s: float = 2.0) -> None:
        """Retire the worker. With stopping=True an invocation in flight ends as STOPPED."""
        with self._cond:
            self.stopping = self.stopping or stopping
            self.closed = True
            self._cond.notify_all()
        self.kill()
        self._close_listener()
        if threading.current_thread() is not self._waiter:
            self._waiter.join(wait_s)

    # ---- logs ------------------------------------------------------------------------------
    def drain_logs(self) -> None:
        """Read whatever the process already wrote, so it is attributed to the invocation that wrote it.

        The runtime flushes stdout before it posts its answer, so on the answer's arrival every
        line it printed is already in the pipe: draining here makes attribution exact.
        """
        with self._log_lock:
            self._read_available_locked()
            if self._partial:
                self._emit(self._partial)
                self._partial = b""

    def _read_logs_loop(self) -> None:
        poller = select.poll()
        poller.register(self._log_fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while True:
            try:
                poller.poll()
            except OSError:
                break
            with self._log_lock:
                if not self._read_available_locked():
                    break

    def _read_available_locked(self) -> bool:
        """Consume everything readable now; False once the pipe reached EOF (and is closed)."""
        if self._log_eof:
            return False
        while True:
            try:
                data = os.read(self._log_fd, 65536)
            except BlockingIOError:
                return True
            except OSError:
                data = b""
            if not data:
                if self._partial:
                    self._emit(self._partial)
                    self._partial = b""
                self._log_eof = True
                try:
                    assert self.proc.stdout is not None
                    self.proc.stdout.close()
                except OSError:
                    pass
                return False
            buf = self._partial + data
            *lines, self._partial = buf.split(b"\n")
            for raw in lines:
                self._emit(raw)
            if len(self._partial) > _MAX_PARTIAL_LINE:
                self._emit(self._partial)
                self._partial = b""

    def _emit(self, raw: bytes) -> None:
        # awslambdaric joins a multi-line error with '\r' so CloudWatch keeps it as one event.
        text = raw.decode("utf-8", "replace").rstrip("\r").replace("\r", "\n")
        inv = self.current
        if inv is not None:
            inv.log_lines.append(text)
        if self._journal is not None:
            self._journal.record(
                "function_log",
                function=self.spec.name,
                request_id=inv.request_id if inv is not None else None,
                line=text,
            )

    # ---- Runtime API -----------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), name=f"lambda-{self.spec.name}-conn", daemon=True).start()

    def _close_listener(self) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self._listener.close()

    def _serve(self, sock: socket.socket) -> None:
        conn = HttpConnection(sock)
        try:
            while True:
                req = conn.read_request()
                if req is None or not self._dispatch(conn, req) or req.wants_close:
                    return
        except (OSError, HttpProtocolError):
            return
        finally:
            conn.close()

    def _dispatch(self, conn: HttpConnection, req: Request) -> bool:
        target = req.target
        if target == NEXT_PATH and req.method == "GET":
            inv = self._wait_next()
            if inv is None:
                return False
            conn.send(
                200,
                inv.payload,
                (
                    ("Lambda-Runtime-Aws-Request-Id", inv.request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(inv.deadline_epoch_ms)),
                    ("Lambda-Runtime-Invoked-Function-Arn", self.spec.arn or ""),
                    ("Lambda-Runtime-Trace-Id", inv.trace_id),
                ),
            )
            return True
        if target.startswith(INVOCATION_PREFIX) and req.method == "POST":
            request_id, _, action = target[len(INVOCATION_PREFIX):].partition("/")
            if action in ("response", "error"):
                if self._finish(request_id, RESPONSE if action == "response" else ERROR, req.body):
                    conn.send(202, _ACCEPTED)
                else:
                    conn.send(400, b'{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}')
                return True
        if target == INIT_ERROR_PATH and req.method == "POST":
            self._init_failed(req.body)
            conn.send(202, _ACCEPTED)
            return True
        conn.send(404, b'{"errorMessage":"Unknown Runtime API path","errorType":"InvalidPath"}')
        return True

    def _wait_next(self) -> Invocation | None:
        with self._cond:
            if self.ready_mono is None:
                self.ready_mono = time.monotonic()
            while self._pending is None and not self.closed:
                self._cond.wait()
            if self.closed:
                return None
            inv = self._pending
            self._pending = None
            assert inv is not None
            inv.mark_delivered()
            return inv

    def _finish(self, request_id: str, outcome: str, body: bytes) -> bool:
        self.drain_logs()
        with self._cond:
            inv = self.current
            if inv is None or inv.request_id != request_id or inv.delivered_mono is None:
                return False
            self.current = None
            inv.complete(outcome, body)
        return True

    def _init_failed(self, body: bytes) -> None:
        self.drain_logs()
        with self._cond:
            self.init_error = body or b'{"errorType":"Runtime.Unknown","errorMessage":"init failed without a reason"}'
            inv = self.current
            self.current = None
            self._pending = None
            if inv is not None:
                inv.complete(INIT_ERROR, self.init_error)

    # ---- process exit ----------------------------------------------------------------------
    def _wait_exit(self) -> None:
        rc = self.proc.wait()
        expected = self.killed_on_purpose  # read before anyone reacts to the exit
        # Stragglers in the group (a handler's own children) go too; the group id cannot have
        # been reused while any of them is alive.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.returncode = rc
        self._reader.join(0.5)
        self.drain_logs()
        if self._journal is not None:
            self._journal.record(
                "runtime_worker_exit", function=self.spec.name, pid=self.proc.pid, returncode=rc, expected=expected,
            )
        with self._cond:
            self.alive = False
            self.closed = True
            inv = self.current
            self.current = None
            self._pending = None
            self._cond.notify_all()
            if inv is not None:
                if self.stopping:
                    inv.complete(STOPPED, b"")
                elif self.init_error is not None:
                    inv.complete(INIT_ERROR, self.init_error)
                else:
                    inv.complete(EXIT, exit_error(inv.request_id, rc))
        self._close_listener()
        if self._on_exit is not None:
            self._on_exit(self)
