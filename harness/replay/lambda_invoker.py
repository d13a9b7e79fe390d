"""`LambdaApiInvoker`: the Invoker protocol over boto3's Lambda `Invoke`, for LocalStack and AWS.

Why an adapter: replay's consumer target talks to an Invoker, so the same code replays into the
harness's local runtime or into a real function. Errors that mean "the function was not reached"
(throttling, service faults, a missing function, a dead endpoint) become InvokeServiceError,
as spec 1 separates them from function errors.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.invoke import InvokeResult, InvokeServiceError

_THROTTLES = {"TooManyRequestsException", "ThrottlingException", "EC2ThrottledException"}


class LambdaApiInvoker:
    """Synchronous (`RequestResponse`) invokes through a boto3 Lambda client."""

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


__all__ = ["LambdaApiInvoker"]
