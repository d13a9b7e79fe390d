"""An embedded backend for the session and a scriptable fake invoker."""

from __future__ import annotations

import threading
import uuid
from typing import Any, Iterator

import pytest

from harness.backends import get_backend
from harness.invoke import InvokeResult, InvokeServiceError


class FakeInvoker:
    """Records every invoke; `script[name]` is a list of outcomes consumed in order
    ("ok", "error", "service", "missing", "block"), then "ok" forever."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []
        self.script: dict[str, list[str]] = {}
        self.release = threading.Event()
        self._lock = threading.Lock()

    def invoke(self, function_name: str, payload: bytes) -> InvokeResult:
        with self._lock:
            self.calls.append((function_name, payload))
            steps = self.script.get(function_name, [])
            step = steps.pop(0) if steps else "ok"
        if step == "block":
            self.release.wait(10)
        if step == "service":
            raise InvokeServiceError("Rate exceeded", throttled=True)
        if step == "missing":
            raise LookupError(f"function {function_name!r} is not registered")
        if step == "error":
            body = b'{"errorMessage": "boom", "errorType": "RuntimeError"}'
            return InvokeResult(200, body, "Unhandled", str(uuid.uuid4()))
        return InvokeResult(200, b"null", None, str(uuid.uuid4()))


@pytest.fixture(scope="session")
def backend() -> Iterator[Any]:
    with get_backend("embedded") as b:
        yield b


@pytest.fixture
def invoker() -> Iterator[FakeInvoker]:
    fake = FakeInvoker()
    yield fake
    fake.release.set()


@pytest.fixture
def bucket(backend: Any) -> str:
    name = f"notif-{uuid.uuid4().hex[:12]}"
    backend.client("s3").create_bucket(Bucket=name)
    return name
