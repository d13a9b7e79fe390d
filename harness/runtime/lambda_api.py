"""A loopback server for Lambda's `Invoke` API, backed by the local runtime.

Why: code that calls Lambda through boto3 — the failure handler's replay policy, `shardproof replay
--target consumer`, a user's own tooling — must reach the harness's runtime, never moto's Lambda
(which would need Docker). Functions find it through `AWS_ENDPOINT_URL_LAMBDA`, which boto3
honours per service, so the Lambda code stays the same on every backend.

Only `Invoke` is served (RequestResponse, Event, DryRun); other Lambda operations answer 501
with a message naming the operation.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.invoke import InvokeServiceError
from harness.runtime.spec import FunctionNotFound

_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


def _function_name(raw: str) -> str:
    """Accept a name, a full ARN, or a partial ARN, as Lambda does (qualifiers are dropped)."""
    name = urllib.parse.unquote(raw)
    if name.startswith("arn:"):
        parts = name.split(":")
        # arn:aws:lambda:region:acct:function:name[:qualifier]
        name = parts[6] if len(parts) > 6 else parts[-1]
    elif ":" in name:
        name = name.split(":", 1)[0]
    return name


class LambdaApiServer:
    """Serve `Invoke` for the functions registered in a LocalRuntime; use as a context manager."""

    def __init__(self, runtime: Any = None, *, journal: Any = None, host: str = "127.0.0.1") -> None:
        self.runtime = runtime
        self.journal = journal
        self._server = ThreadingHTTPServer((host, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="lambda-api", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> "LambdaApiServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _invoke_async(self, name: str, payload: bytes) -> None:
        """`Event` invocations: accepted at once, run in the background, outcome journaled."""
        try:
            result = self.runtime.invoke(name, payload)
            outcome = result.function_error
        except Exception as exc:  # journaled: an async invoke has nobody to answer
            outcome = f"{type(exc).__name__}: {exc}"
        if self.journal is not None:
            self.journal.record("lambda_api_async_invoke", function=name, function_error=outcome)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length) if length else b"{}"
                m = _INVOKE.match(urllib.parse.urlsplit(self.path).path)
                if not m:
                    self._error(501, "UnsupportedOperation", f"the local Lambda API serves only Invoke, not POST {self.path}")
                    return
                name = _function_name(m["name"])
                kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
                if api.runtime is None or name not in {f.name for f in api.runtime.functions()}:
                    self._error(404, "ResourceNotFoundException", f"Function not found: {name}")
                    return
                if kind == "DryRun":
                    self._reply(204, b"", {})
                    return
                if kind == "Event":
                    threading.Thread(target=api._invoke_async, args=(name, payload), daemon=True).start()
                    self._reply(202, b"", {})
                    return
                try:
                    result = api.runtime.invoke(name, payload)
                except FunctionNotFound as exc:
                    self._error(404, "ResourceNotFoundException", str(exc))
                    return
                except InvokeServiceError as exc:
                    self._error(429 if exc.throttled else 500,
                                "TooManyRequestsException" if exc.throttled else "ServiceException", str(exc))
                    return
                headers = {"X-Amz-Executed-Version": result.executed_version, "x-amzn-RequestId": result.request_id}
                if result.function_error:
                    headers["X-Amz-Function-Error"] = result.function_error
                if self.headers.get("X-Amz-Log-Type") == "Tail":
                    headers["X-Amz-Log-Result"] = base64.b64encode(result.log_tail.encode()[-4096:]).decode()
                self._reply(200, result.payload, headers)

            do_GET = do_PUT = do_DELETE = lambda self: self._error(  # noqa: E731
                501, "UnsupportedOperation", f"the local Lambda API serves only Invoke, not {self.command} {self.path}")

            def _error(self, status: int, code: str, message: str) -> None:
                body = json.dumps({"Type": "User", "Message": message, "message": message}).encode()
                self._reply(status, body, {"x-amzn-ErrorType": code})

            def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
