"""Small stacks explore has not seen: hand-written CloudFormation, one DynamoDB and one Kinesis pipeline."""

from __future__ import annotations

from typing import Any

from harness.deploy.template_reader import describe_template
from harness.explore import make_base
from harness.scenarios.model import Scenario

QUEUE = "arn:aws:sqs:eu-west-1:111122223333:ledger-failures"


def template(kind: str = "dynamodb", destination: bool = True, retention_hours: int | None = None,
             **mapping_props: Any) -> dict[str, Any]:
    if kind == "dynamodb":
        source = {"Type": "AWS::DynamoDB::Table",
                  "Properties": {"KeySchema": [{"AttributeName": "entry", "KeyType": "HASH"}],
                                 "StreamSpecification": {"StreamViewType": "NEW_IMAGE"}}}
        arn = {"Fn::GetAtt": ["Ledger", "StreamArn"]}
    else:
        source = {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 2}}
        if retention_hours:
            source["Properties"]["RetentionPeriodHours"] = retention_hours
        arn = {"Fn::GetAtt": ["Ledger", "Arn"]}
    props: dict[str, Any] = {"EventSourceArn": arn, "FunctionName": {"Ref": "Posting"},
                             "StartingPosition": "TRIM_HORIZON", **mapping_props}
    if destination:
        props["DestinationConfig"] = {"OnFailure": {"Destination": QUEUE}}
    return {"Resources": {
        "Ledger": source,
        "PostingRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": []}}},
        "Posting": {"Type": "AWS::Lambda::Function",
                    "Properties": {"Runtime": "python3.12", "Handler": "app.handler",
                                   "Code": {"ZipFile": "def handler(e, c): return None"},
                                   "Role": {"Fn::GetAtt": ["PostingRole", "Arn"]}}},
        "PostingMapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": props}}}


def items(kind: str, n: int) -> tuple[dict[str, Any], ...]:
    if kind == "dynamodb":
        return tuple({"entry": f"e-{i}", "cents": 100 + i} for i in range(n))
    return tuple({"partitionKey": "account-7", "data": {"entry": i}} for i in range(n))


def base(kind: str = "dynamodb", n: int = 8, poison: tuple[int, ...] = (2,), handler: str | None = "raise",
         fail_times: int | None = None, destination: bool = True, retention_hours: int | None = None,
         **mapping_props: Any) -> Any:
    desc = describe_template(template(kind, destination, retention_hours, **mapping_props), stack_name="Ledger")
    scenario = Scenario(name="ledger", title="ledger", items=items(kind, n), poison=poison, handler=handler,
                        fail_times=fail_times)
    return make_base(scenario, desc.pipeline(), shard_count=2 if kind == "kinesis" else 1)
