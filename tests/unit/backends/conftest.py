"""A fake LocalStack: a tiny http.server on loopback answering `/_localstack/health` and `/info`
(or, as `fake_floci`, Floci's `/_floci/health` and `/_floci/info`).

Why a fake and not the real thing: there is no Docker engine here, and what these tests check
(readiness polling, the capability probe, error texts) depends only on those two endpoints.
The JSON shapes follow LocalStack 4.x.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

ALL_READY = {
    "dynamodb": "available",
    "dynamodbstreams": "available",
    "s3": "running",
    "sqs": "available",
    "sns": "available",
    "lambda": "available",
    "iam": "available",
    "sts": "running",
    "cloudwatch": "available",
    "logs": "available",
    "kinesis": "disabled",
}


class FakeLocalStack:
    """Scriptable answers: `health_script` is consumed one entry per health request, then the last repeats."""

    def __init__(self, prefix: str = "/_localstack") -> None:
        self.health_path, self.info_path = f"{prefix}/health", f"{prefix}/info"
        ready = {"services": dict(ALL_READY), "edition": "community", "version": "4.14.0"}
        self.health_script: list[tuple[int, Any]] = [(200, ready)]
        self.info: tuple[int, Any] = (
            200,
            {"version": "4.14.0:abc123", "edition": "community", "is_license_activated": False, "session_id": "s"},
        )
        self.requests: list[str] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with fake._lock:
                    fake.requests.append(self.path)
                    if self.path == fake.health_path:
                        status, body = fake.health_script[0]
                        if len(fake.health_script) > 1:
                            fake.health_script.pop(0)
                    elif self.path == fake.info_path:
                        status, body = fake.info
                    else:
                        status, body = 404, {"error": "not found"}
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def health_count(self) -> int:
        return sum(1 for p in self.requests if p == self.health_path)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_localstack() -> Iterator[FakeLocalStack]:
    fake = FakeLocalStack()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


# Floci's health as its EmulatorInfoController builds it (floci-io/floci, lifecycle/): its own
# service names (no dynamodbstreams: dynamodb serves the Streams API), "running" when enabled.
FLOCI_SERVICES = {"ssm": "running", "sqs": "running", "s3": "running", "dynamodb": "running", "sns": "running",
                  "lambda": "running", "apigateway": "running", "iam": "running", "logs": "running",
                  "monitoring": "running", "kinesis": "running"}


@pytest.fixture
def fake_floci() -> Iterator[FakeLocalStack]:
    fake = FakeLocalStack(prefix="/_floci")
    fake.health_script[:] = [(200, {"services": dict(FLOCI_SERVICES), "edition": "community",
                                    "original_edition": "floci-always-free", "version": "1.5.34"})]
    fake.info = (200, {"version": "1.5.34", "edition": "community", "original_edition": "floci-always-free"})
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens (bound then released), so connects are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
