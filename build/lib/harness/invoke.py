"""What invoking a Lambda function returns, shared by the runtime, the ESM engine,
S3 notifications and replay, so each can swap the local runtime for the Lambda Invoke API;
and `LambdaApiInvoker`, that Invoker over the Lambda Invoke API itself (LocalStack, AWS).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError


@dataclass(frozen=True)
class InvokeResult:
    """The outcome of one synchronous invoke, with the Lambda Invoke API's fields.

    `function_error` is None on success, "Unhandled" for an exception, timeout or crash,
    "Handled" when the runtime formatted the error itself. `payload` is the response body
    (the function's return value as JSON, or the error document).
    """

    status_code: int
    payload: bytes
    function_error: str | None
    request_id: str
    executed_version: str = "$LATEST"
    log_tail: str = ""
    duration_ms: float = 0.0


class InvokeServiceError(Exception):
    """The batch never reached the function (throttle, service fault, backend unreachable).

    Spec section 1: these are retried but never counted against MaximumRetryAttempts.
    """

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.throttled = throttled


class Invoker(Protocol):
    """Anything that can invoke a function by name: the local runtime, or Lambda's Invoke API."""

    def invoke(self, function_name: str, payload: bytes) -> InvokeResult:
        """Invoke synchronously; raise InvokeServiceError if the function was not reached."""
        ...


_THROTTLES = {"TooManyRequestsException", "ThrottlingException", "EC2ThrottledException"}


class LambdaApiInvoker:
    """Synchronous (`RequestResponse`) invokes through a boto3 Lambda client.

    Why an adapter: replay's consumer target and the remote runtime talk to an Invoker, so the
    same code reaches the harness's local runtime or a real function. Errors that mean "the
    function was not reached" (throttling, service faults, a missing function, a dead endpoint)
    become InvokeServiceError, as spec 1 separates them from function errors.
    """

    def __init__(self, lambda_client: Any, *, qualifier: str | None = None) -> None:
        self.client = lambda_client
        self.qualifier = qualifier

    def invoke(self, function_name: str, payload: bytes) -> InvokeResult:
        params: dict[str, Any] = {"FunctionName": function_name, "InvocationType": "RequestResponse",
                                  "Payload": payload, "LogType": "Tail"}
        if self.qualifier:
            params["Qualifier"] = self.qualifier
        began = time.perf_counter()
        try:
            resp = self.client.invoke(**params)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            raise InvokeServiceError(f"Invoke {function_name}: {code}: {err.get('Message', '')}".rstrip(": "),
                                     throttled=code in _THROTTLES) from None
        except BotoCoreError as exc:
            raise InvokeServiceError(f"Invoke {function_name}: {exc}") from None
        body = resp["Payload"].read() if hasattr(resp.get("Payload"), "read") else (resp.get("Payload") or b"")
        tail = resp.get("LogResult")
        try:
            log_tail = base64.b64decode(tail).decode("utf-8", "replace") if tail else ""
        except (ValueError, TypeError):
            log_tail = ""
        return InvokeResult(
            status_code=int(resp.get("StatusCode", 200)),
            payload=body,
            function_error=resp.get("FunctionError"),
            request_id=resp.get("ResponseMetadata", {}).get("RequestId", ""),
            executed_version=resp.get("ExecutedVersion", "$LATEST"),
            log_tail=log_tail,
            duration_ms=(time.perf_counter() - began) * 1000,
        )
