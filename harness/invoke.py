"""What invoking a Lambda function returns, shared by the runtime, the ESM engine,
S3 notifications and replay, so each can swap the local runtime for the Lambda Invoke API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
