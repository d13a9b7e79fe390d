"""The local Lambda Invoke API: boto3's Lambda client reaches the local runtime, never moto's Lambda."""

import json

import boto3
import pytest
from botocore.config import Config

from harness.runtime import FunctionSpec
from harness.runtime.lambda_api import LambdaApiServer


@pytest.fixture
def api(runtime, journal, code_dir):
    runtime.register(FunctionSpec("echo", code_dir, "app.ok"))
    runtime.register(FunctionSpec("boom", code_dir, "app.boom"))
    with LambdaApiServer(runtime, journal=journal) as server:
        yield server


def _client(api):
    return boto3.client("lambda", endpoint_url=api.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}))


def test_request_response_returns_the_function_result(api):
    resp = _client(api).invoke(FunctionName="echo", Payload=json.dumps({"id": 7}).encode(), LogType="Tail")
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp
    assert json.loads(resp["Payload"].read()) == {"echo": {"id": 7}, "ok": True}
    assert resp["ExecutedVersion"] == "$LATEST"


def test_function_error_is_reported_like_lambda(api):
    resp = _client(api).invoke(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:boom",
                               Payload=b'{"id": 3}')
    assert resp["FunctionError"] == "Unhandled"
    assert json.loads(resp["Payload"].read())["errorMessage"] == "bad record 3"


def test_unknown_function_is_resource_not_found_naming_it(api):
    client = _client(api)
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="nope"):
        client.invoke(FunctionName="nope", Payload=b"{}")


def test_event_invocation_is_accepted_and_runs_in_background(api, journal):
    resp = _client(api).invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")
    assert resp["StatusCode"] == 202
    journal.wait_for(lambda es: [e for e in es if e["kind"] == "lambda_api_async_invoke"], timeout=10,
                     what="the async invoke")
    assert journal.entries("lambda_api_async_invoke")[0]["function_error"] is None


def test_other_operations_are_refused_by_name(api):
    client = _client(api)
    with pytest.raises(Exception, match="serves only Invoke"):
        client.get_function(FunctionName="echo")
