"""LambdaApiInvoker maps boto3's Invoke onto the Invoker protocol (spec 1: unreached is not a function error)."""

from __future__ import annotations

import base64
import io

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from harness.invoke import InvokeServiceError, LambdaApiInvoker


def _client():
    return boto3.client("lambda", region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def _body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def test_success_and_function_error_are_results():
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "Payload": _body(b'{"batchItemFailures":[]}'),
                                     "ExecutedVersion": "$LATEST",
                                     "LogResult": base64.b64encode(b"START RequestId").decode()},
                          {"FunctionName": "f", "InvocationType": "RequestResponse", "Payload": b"{}",
                           "LogType": "Tail"})
        stub.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled",
                                     "Payload": _body(b'{"errorMessage":"boom"}')})
        ok = LambdaApiInvoker(client).invoke("f", b"{}")
        bad = LambdaApiInvoker(client).invoke("f", b"{}")
    assert ok.function_error is None and ok.payload == b'{"batchItemFailures":[]}' and ok.log_tail == "START RequestId"
    assert bad.function_error == "Unhandled" and b"boom" in bad.payload


@pytest.mark.parametrize("code,throttled", [("TooManyRequestsException", True), ("ResourceNotFoundException", False),
                                            ("ServiceException", False)])
def test_service_errors_mean_not_reached(code, throttled):
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("invoke", service_error_code=code, service_message="nope", http_status_code=429)
        with pytest.raises(InvokeServiceError, match=f"Invoke f: {code}") as info:
            LambdaApiInvoker(client).invoke("f", b"{}")
    assert info.value.throttled is throttled


def test_the_remote_runtime_does_not_import_replay():
    """The backends sit below replay in the data flow: reaching a real Lambda must not load harness.replay."""
    import subprocess
    import sys

    code = ("import sys, harness.backends.remote_lambda; "
            "print(sorted(m for m in sys.modules if m == 'harness.replay' or m.startswith('harness.replay.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
