"""A TableV2-style stack end to end on the embedded backend: the deployer, the real local runtime and
the real ESM engine. The GlobalTable's stream reaches the ESM, the consumer imports its layer, and
the mapping targets an alias."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.deploy import apply_template
from harness.esm import Boto3Destinations, EsmService
from harness.esm.config import Backoff
from harness.journal import Journal
from harness.runtime import LocalRuntime

pytestmark = pytest.mark.timeout(120)

CONSUMER = """
import shared

def handler(event, context):
    for record in event["Records"]:
        if record["dynamodb"]["NewImage"].get("poison", {}).get("BOOL"):
            raise ValueError(shared.REASON)
    return None
"""


def _template(layer: Path) -> dict[str, Any]:
    return {"Resources": {
        "Orders": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST", "Replicas": [{"Region": "us-east-1"}],
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}}},
        "Failures": {"Type": "AWS::SQS::Queue"},
        "Shared": {"Type": "AWS::Lambda::LayerVersion", "Metadata": {"aws:asset:path": str(layer)},
                   "Properties": {"Content": {"S3Bucket": "assets", "S3Key": "shared.zip"}}},
        "Consumer": {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "index.handler", "Runtime": "python3.11", "Timeout": 10, "Code": {"ZipFile": CONSUMER},
            "Layers": [{"Ref": "Shared"}]}},
        "Version": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Consumer"}}},
        "Live": {"Type": "AWS::Lambda::Alias", "Properties": {
            "FunctionName": {"Ref": "Consumer"}, "Name": "live",
            "FunctionVersion": {"Fn::GetAtt": ["Version", "Version"]}}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": {"Ref": "Live"}, "EventSourceArn": {"Fn::GetAtt": ["Orders", "StreamArn"]},
            "StartingPosition": "TRIM_HORIZON", "BatchSize": 4, "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 0,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Failures", "Arn"]}}}}},
    }}


def test_spec3_2_globaltable_stream_to_a_mapping_on_an_alias_with_a_layer(backend: Any, tmp_path: Path) -> None:
    """Spec 3.2 [GAP]: AWS documents functionArn as unqualified in its examples and "qualified when
    the ESM targets an alias or version"; executedVersion is the version that ran. Here the mapping
    names the alias `live` (-> version 1): the envelope carries the alias ARN and "1"."""
    layer = tmp_path / "shared-layer"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "shared.py").write_text("REASON = 'poison record (message from the layer)'\n")
    journal = Journal()
    runtime = LocalRuntime(base_environment=backend.lambda_environment(), journal=journal, max_workers=1)
    esm = EsmService(streams_client=backend.client("dynamodbstreams"), invoker=runtime,
                     destinations=Boto3Destinations(sqs=backend.client("sqs")), journal=journal,
                     poll_interval_s=0.05, backoff=Backoff(0.01, 2, 0.05))
    stack = apply_template(_template(layer), stack_name="E2e", assembly_dir=tmp_path, backend=backend,
                           runtime=runtime, esm=esm, notifications=None, journal=journal)
    table = stack.resources["Orders"].physical_id
    ddb = backend.client("dynamodb")
    for i in range(4):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"o{i}"}, "poison": {"BOOL": i == 2}})
    runtime.start()
    esm.start()
    try:
        esm.drain(timeout=60)
    finally:
        esm.stop()
        runtime.stop()

    # The GlobalTable's stream is the one the ESM read: every item arrived, in order.
    invoked = [seq for e in journal.entries("invoked") for seq in e["sequence_numbers"]]
    assert len(set(invoked)) == 4
    assert {e["function_name"] for e in journal.entries("invoked")} == {"E2e-Consumer"}
    # Only the poison record failed: the layer's module imported (else every record would have).
    (message,) = backend.client("sqs").receive_message(QueueUrl=stack.resources["Failures"].physical_id,
                                                       MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["DDBStreamBatchInfo"]["batchSize"] == 1
    assert envelope["DDBStreamBatchInfo"]["streamArn"] == stack.resources["Orders"].attributes["StreamArn"]
    assert envelope["requestContext"]["functionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:E2e-Consumer:live"
    assert envelope["responseContext"] == {"statusCode": 200, "executedVersion": "1", "functionError": "Unhandled"}
    errors = [e for e in journal.entries("invoke_result") if e["outcome"] == "function_error"]
    assert errors  # the poison record's invokes failed with the layer's message, not an import error
    results = [e for e in journal.entries("runtime_invoke") if e.get("error_type")]
    assert results and {e["error_type"] for e in results} == {"ValueError"}
