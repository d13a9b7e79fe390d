"""The default backend: moto's server, in-process, on a free loopback port.

One embedded backend at a time per process: moto's state is process-global, and `start()` resets it.

moto is Apache-2.0 and needs no Docker. It is run as a real HTTP server (not `mock_aws`)
so that Lambda worker processes reach it through `AWS_ENDPOINT_URL` like any other backend.
moto's own Lambda and ESM are never used: the harness owns invocation (see issue 2, hazards).
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request

from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from harness.backends.base import Backend, BackendError, BackendInfo

SERVICES = ("dynamodb", "dynamodbstreams", "s3", "sqs", "sns", "iam", "sts", "cloudwatch")


class EmbeddedBackend(Backend):
    """moto server on 127.0.0.1; `start()` returns once it answers a health check."""

    name = "embedded"

    def __init__(self, region: str = "us-east-1", host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(region)
        self._host = host
        self._requested_port = port
        self._server: ThreadedMotoServer | None = None
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
        # werkzeug logs every request at INFO; that drowns the harness's own progress output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=self._host, port=self._requested_port, verbose=False)
        try:
            server.start()
        except OSError as exc:
            raise BackendError(f"embedded backend could not bind {self._host}:{self._requested_port}: {exc}") from exc
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
