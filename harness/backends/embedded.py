"""The default backend: moto's server, in-process, on a free loopback port.

One embedded backend at a time per process: moto's state is process-global, and `start()` resets it.

moto is Apache-2.0 and needs no Docker. It is run as a real HTTP server (not `mock_aws`)
so that Lambda worker processes reach it through `AWS_ENDPOINT_URL` like any other backend.
moto's own Lambda and ESM are never used: the harness owns invocation, so that its runtime and
its ESM engine (faithful to the spec, unlike moto's) are what a scenario exercises.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import ThreadedWSGIServer, make_server

from harness.backends import moto_streams
from harness.backends.base import Backend, BackendError, BackendInfo
from harness.backends.moto_events import install as install_event_targets

SERVICES = ("dynamodb", "dynamodbstreams", "s3", "sqs", "sns", "iam", "sts", "cloudwatch")


class _CachedDispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend serves a host.

    moto answers `get_backend_for_host` by listing its package directory on every request
    (`list_of_moto_modules`, ~0.4 ms and 13% of the server's time in an end-to-end run). The
    answer depends only on the host string and the installed moto, so it is cached.
    """

    def __init__(self) -> None:
        super().__init__(create_backend_app)
        self._hosts: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        try:
            return self._hosts[host]
        except KeyError:
            backend = self._hosts[host] = super().get_backend_for_host(host)
            return backend


class _KeepAliveHandler(MotoRequestHandler):
    """HTTP/1.1 keep-alive for moto's WSGI app.

    werkzeug's development server sends `Connection: close` on every response, so each boto3
    call paid a TCP connect, a new server thread and a drain wait (about half of a 3.6 ms
    round trip here). This handler reads the request body exactly, buffers the response to
    send it with a Content-Length in one write (TCP_NODELAY: no delayed-ACK stall), and keeps
    the connection for the client's next request. A request with a chunked body, an app error
    or a client asking for `Connection: close` still closes the connection.
    """

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server._track(self.connection, True)  # type: ignore[attr-defined]

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server._track(self.connection, False)  # type: ignore[attr-defined]

    def run_wsgi(self) -> None:
        environ = self.environ = self.make_environ()
        if environ.get("wsgi.input_terminated"):  # chunked request body: read it whole, then close
            body = environ["wsgi.input"].read()
            environ.pop("HTTP_TRANSFER_ENCODING", None)  # the app now gets a plain body of known length
            self.close_connection = True
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = self.rfile.read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception:  # noqa: BLE001 - the client gets a 500, the server keeps serving
            logging.getLogger(__name__).exception("embedded backend: error on %s %s", self.command, self.path)
            started[:] = ["500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")]]
            chunks = [b"Internal Server Error"]
            self.close_connection = True
        status, headers = started
        code = int(status.split(" ", 1)[0])
        no_body = self.command == "HEAD" or code < 200 or code in (204, 304)
        data = b"" if no_body else b"".join(chunks)
        lines = [f"HTTP/1.1 {status}"]
        for name, value in headers:
            if name.lower() in ("connection", "transfer-encoding") or (name.lower() == "content-length" and not no_body):
                continue
            lines.append(f"{name}: {value}")
        if not no_body:
            lines.append(f"Content-Length: {len(data)}")
        if self.close_connection:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """werkzeug would format a line per request only for the logger to drop it."""


class _Server:
    """A threaded werkzeug server with the handler above; closes its kept-alive connections on stop."""

    def __init__(self, host: str, port: int) -> None:
        self.wsgi: ThreadedWSGIServer = make_server(host, port, _CachedDispatcher(), threaded=True,
                                                    request_handler=_KeepAliveHandler)  # type: ignore[assignment]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.wsgi._track = self._track  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self.wsgi.serve_forever, name="embedded-moto", daemon=True)

    def _track(self, conn: socket.socket, opened: bool) -> None:
        with self._lock:
            (self._open.add if opened else self._open.discard)(conn)

    def start(self) -> None:
        self._thread.start()

    def get_host_and_port(self) -> tuple[str, int]:
        host, port = self.wsgi.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        self.wsgi.shutdown()
        self._thread.join()
        self.wsgi.server_close()
        with self._lock:
            conns, self._open = list(self._open), set()
        for conn in conns:  # idle keep-alive threads sit in readline(): wake them so they exit
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class EmbeddedBackend(Backend):
    """moto server on 127.0.0.1; `start()` returns once it answers a health check."""

    name = "embedded"

    def __init__(self, region: str = "us-east-1", host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(region)
        self._host = host
        self._requested_port = port
        self._server: _Server | None = None
        self._endpoint: str | None = None
        self.started_in_s: float | None = None

    @property
    def endpoint_url(self) -> str:
        if self._endpoint is None:
            raise BackendError("embedded backend is not started: call start() or use it as a context manager")
        return self._endpoint

    def start(self) -> None:
        if self._server is not None:
            return
        began = time.perf_counter()
        install_event_targets()  # EventBridge -> SNS targets, which moto alone cannot deliver
        moto_streams.install()  # GetRecords without moto's per-value serializer, same bytes
        # werkzeug logs every request at INFO; that drowns the harness's own progress output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        try:
            server = _Server(self._host, self._requested_port)
        except OSError as exc:
            raise BackendError(f"embedded backend could not bind {self._host}:{self._requested_port}: {exc}") from exc
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self._endpoint = f"http://{host}:{port}"
        self._wait_healthy(timeout=10.0)
        # moto keeps its state in module globals, shared by every server in this process:
        # start from nothing so a run never sees a previous run's tables or objects.
        self.reset()
        self.started_in_s = time.perf_counter() - began

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return
            time.sleep(0.02)
        self.stop()
        raise BackendError(f"embedded backend at {self._endpoint} did not answer within {timeout}s")

    def healthy(self) -> bool:
        if self._endpoint is None:
            return False
        try:
            with urllib.request.urlopen(f"{self._endpoint}/moto-api/", timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def reset(self) -> None:
        """Drop every resource moto holds, so one process can run many isolated scenarios."""
        req = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(req, timeout=10):
            pass
        self._clients.clear()

    def stop(self) -> None:
        if self._server is None:
            return
        try:
            self._server.stop()
        finally:
            self._server = None
            self._endpoint = None
            self._clients.clear()

    def describe(self) -> BackendInfo:
        import moto

        return BackendInfo(
            self.name,
            self._endpoint,
            self.region,
            self.account_id,
            {"moto": moto.__version__, "services": list(SERVICES)},
        )
