"""A YAML `replay:` step on a stack whose on-failure destination is an SQS queue or an SNS topic
(spec 3.4: their failure records carry only the shard and sequence range; the records are read back
from the stream). A poison item is isolated, the consumer is fixed, every failure record is replayed
into it, and a second replay is a no-op (the ledger)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.deploy.sources import SourceSpec, open_source
from harness.scenarios.loader import load_file
from harness.scenarios.runner import run_scenario

pytestmark = pytest.mark.timeout(120)

CONSUMER = """
import os

def handler(event, context):
    for record in event["Records"]:
        image = record["dynamodb"].get("NewImage", {})
        if "poison" in image and os.environ.get("ACCEPT_POISON") != "true":
            raise ValueError("poison item " + image["pk"]["S"])
"""

SCENARIO = """
name: replay-from-{kind}
items:
  - {{pk: "a"}}
  - {{pk: "b", poison: true}}
  - {{pk: "c"}}
poison: [1]
handler: raise
after:
  - environment: {{function: Consumer, set: {{ACCEPT_POISON: "true"}}}}
  - replay: consumer
  - replay: consumer
expect:
  destination: [[1]]
  replayed: [1]
"""


def _template(kind: str) -> dict:
    destination = {"sqs": {"Type": "AWS::SQS::Queue"}, "sns": {"Type": "AWS::SNS::Topic"}}[kind]
    arn = {"Fn::GetAtt": ["Failures", "Arn"]} if kind == "sqs" else {"Ref": "Failures"}
    return {"Resources": {
        "Orders": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST", "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}}},
        "Failures": destination,
        "Consumer": {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": "index.handler", "Runtime": "python3.11", "Timeout": 10, "Code": {"ZipFile": CONSUMER},
            "Role": "arn:aws:iam::123456789012:role/consumer"}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": {"Ref": "Consumer"}, "EventSourceArn": {"Fn::GetAtt": ["Orders", "StreamArn"]},
            "StartingPosition": "TRIM_HORIZON", "BatchSize": 3, "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 0, "DestinationConfig": {"OnFailure": {"Destination": arn}}}},
    }}


@pytest.mark.parametrize("kind", ["sqs", "sns"])
def test_spec3_4_yaml_replay_step_reads_the_records_back_from_the_stream(kind: str, tmp_path: Path) -> None:
    template = tmp_path / "template.json"
    template.write_text(json.dumps(_template(kind)))
    scenario_file = tmp_path / "replay.yaml"
    scenario_file.write_text(SCENARIO.format(kind=kind))
    (scenario,) = load_file(scenario_file)
    result = run_scenario(scenario, source=open_source(SourceSpec("template", template)))
    assert result["error"] is None, result["error"]
    failed = [c for c in result["checks"] if not c["passed"]]
    assert result["verdict"] == "pass", failed
    steps = result["observed"]["extra"]["replay_steps"]
    first, second = (s["counts"] for s in steps)
    assert first == {"replayed": 1} and second == {"already-replayed": 1}
    record = steps[0]["records"][0]
    assert record["item_key"] == "pk=b"  # read back from the stream: the poison item itself
