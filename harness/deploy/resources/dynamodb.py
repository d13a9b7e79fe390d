"""AWS::DynamoDB::Table on the backend's DynamoDB (with its stream, which the ESM engine reads)."""

from __future__ import annotations

from typing import Any

from harness.deploy.resources.base import Created, DeployContext, ResourceType, boolean, physical_name

TYPE = "AWS::DynamoDB::Table"
_NOTED = ("SSESpecification", "PointInTimeRecoverySpecification", "DeletionProtectionEnabled",
          "ContributorInsightsSpecification", "KinesisStreamSpecification", "TableClass")


def create_table(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props.get("TableName") or physical_name(ctx.stack_name, lid, max_length=255)
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if params["BillingMode"] == "PROVISIONED":
        params["ProvisionedThroughput"] = _throughput(props.get("ProvisionedThroughput"))
    stream = props.get("StreamSpecification")
    if stream:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    if props.get("GlobalSecondaryIndexes"):
        params["GlobalSecondaryIndexes"] = [_index(gsi, params["BillingMode"]) for gsi in props["GlobalSecondaryIndexes"]]
    if props.get("LocalSecondaryIndexes"):
        params["LocalSecondaryIndexes"] = [
            {k: v for k, v in lsi.items() if k in ("IndexName", "KeySchema", "Projection")}
            for lsi in props["LocalSecondaryIndexes"]
        ]
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    client = ctx.client("dynamodb")
    table = client.create_table(**params)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and boolean(ttl.get("Enabled")):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    for noted in _NOTED:
        if noted in props:
            ctx.note(lid, f"{TYPE} {noted} is not applied locally (no effect on stream semantics)", property=noted)
    ctx.ignore_unhandled(lid, TYPE, props, {"TableName", "KeySchema", "AttributeDefinitions", "BillingMode",
                                            "ProvisionedThroughput", "StreamSpecification", "GlobalSecondaryIndexes",
                                            "LocalSecondaryIndexes", "Tags", "TimeToLiveSpecification", *_NOTED})
    attributes = {"Arn": table["TableArn"]}
    if "LatestStreamArn" in table:
        attributes["StreamArn"] = table["LatestStreamArn"]
    return Created(name, attributes)


def _throughput(value: dict[str, Any] | None) -> dict[str, int]:
    value = value or {}
    return {
        "ReadCapacityUnits": int(value.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(value.get("WriteCapacityUnits", 5)),
    }


def _index(gsi: dict[str, Any], billing_mode: str) -> dict[str, Any]:
    index = {k: v for k, v in gsi.items() if k in ("IndexName", "KeySchema", "Projection")}
    if billing_mode == "PROVISIONED":
        index["ProvisionedThroughput"] = _throughput(gsi.get("ProvisionedThroughput"))
    return index


TYPES = (
    ResourceType(TYPE, create_table, attributes=("Arn", "StreamArn"), required=("KeySchema", "AttributeDefinitions")),
)
