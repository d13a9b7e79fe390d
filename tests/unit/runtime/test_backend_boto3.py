"""A function's unchanged boto3 reaches the embedded backend through AWS_ENDPOINT_URL."""

from __future__ import annotations

import json

import pytest

from harness.backends import get_backend
from harness.runtime import FunctionSpec, LocalRuntime

PUT_OBJECT = '''
import json, os
import boto3

s3 = boto3.client("s3")  # no endpoint argument: AWS_ENDPOINT_URL decides, as on AWS

def handler(event, context):
    s3.put_object(Bucket=os.environ["BUCKET"], Key=event["key"], Body=json.dumps(event).encode())
    return {"written": event["key"], "request": context.aws_request_id}
'''


@pytest.fixture(scope="module")
def backend():
    with get_backend("embedded") as b:
        yield b


def test_function_puts_s3_object_that_the_test_reads(backend, write_dir) -> None:
    s3 = backend.client("s3")
    s3.create_bucket(Bucket="runtime-test")
    d = write_dir("putter", {"app.py": PUT_OBJECT})
    with LocalRuntime(base_environment=backend.lambda_environment()) as rt:
        rt.register(FunctionSpec("putter", d, "app.handler", environment={"BUCKET": "runtime-test"}, timeout_s=10))
        result = rt.invoke("putter", b'{"key": "a/b.json", "v": 1}')
    assert result.function_error is None, result.payload
    assert json.loads(result.payload)["written"] == "a/b.json"
    body = s3.get_object(Bucket="runtime-test", Key="a/b.json")["Body"].read()
    assert json.loads(body) == {"key": "a/b.json", "v": 1}
