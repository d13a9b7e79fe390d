"""AWS::DynamoDB::Table and ::GlobalTable on the backend's DynamoDB (with the stream the ESM engine reads).

A GlobalTable (what CDK's TableV2 synthesizes) becomes one table in the deploy region: its
replica there supplies the read capacity and per-replica settings, and replicas in other regions
are noted, not created (a local deploy has one region).
"""

from __future__ import annotations

import uuid
from typing import Any

from harness.deploy.errors import DeployError
from harness.deploy.resources.base import Created, DeployContext, ResourceType, boolean, physical_name

TYPE = "AWS::DynamoDB::Table"
GLOBAL_TABLE = "AWS::DynamoDB::GlobalTable"
_NOTED = ("SSESpecification", "PointInTimeRecoverySpecification", "DeletionProtectionEnabled",
          "ContributorInsightsSpecification", "KinesisStreamSpecification", "TableClass")
# A GlobalTable's own keys with no local effect on what the pipeline does; noted one by one.
_GLOBAL_NOTED = ("SSESpecification", "WriteOnDemandThroughputSettings", "ReadOnDemandThroughputSettings",
                 "WarmThroughput", "MultiRegionConsistency", "GlobalTableWitnesses")
_REPLICA_HANDLED = ("Region", "ReadProvisionedThroughputSettings", "GlobalSecondaryIndexes", "Tags")


def create_table(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props.get("TableName") or physical_name(ctx.stack_name, lid, max_length=255)
    params = _table_params(name, props)
    if params["BillingMode"] == "PROVISIONED":
        params["ProvisionedThroughput"] = _throughput(props.get("ProvisionedThroughput"))
    if props.get("GlobalSecondaryIndexes"):
        params["GlobalSecondaryIndexes"] = [_index(gsi, params["BillingMode"], gsi.get("ProvisionedThroughput"))
                                            for gsi in props["GlobalSecondaryIndexes"]]
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    table = _create(ctx, name, params, props)
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


def create_global_table(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    replica = _local_replica(ctx, lid, props["Replicas"])
    name = props.get("TableName") or physical_name(ctx.stack_name, lid, max_length=255)
    params = _table_params(name, props)
    provisioned = params["BillingMode"] == "PROVISIONED"
    if provisioned:
        params["ProvisionedThroughput"] = {
            "ReadCapacityUnits": _read_units(replica.get("ReadProvisionedThroughputSettings")),
            "WriteCapacityUnits": _write_units(props.get("WriteProvisionedThroughputSettings")),
        }
    replica_indexes = {i.get("IndexName"): i for i in replica.get("GlobalSecondaryIndexes") or []}
    if props.get("GlobalSecondaryIndexes"):
        params["GlobalSecondaryIndexes"] = [
            _index(gsi, params["BillingMode"], {
                "ReadCapacityUnits": _read_units(replica_indexes.get(gsi.get("IndexName"), {})
                                                 .get("ReadProvisionedThroughputSettings")),
                "WriteCapacityUnits": _write_units(gsi.get("WriteProvisionedThroughputSettings")),
            } if provisioned else None)
            for gsi in props["GlobalSecondaryIndexes"]
        ]
    if replica.get("Tags"):
        params["Tags"] = replica["Tags"]
    table = _create(ctx, name, params, props)
    if provisioned:
        ctx.note(lid, "GlobalTable capacity auto scaling is not applied locally: the table gets the seed (or minimum) "
                      "capacity as fixed provisioned throughput", property="WriteProvisionedThroughputSettings")
    for other in props["Replicas"]:
        if other is not replica:
            ctx.note(lid, f"replica in {other.get('Region')} not created: a local deploy has only its own region "
                          f"({ctx.region})", property="Replicas", region=other.get("Region"))
    for key in sorted(set(replica) - set(_REPLICA_HANDLED)):
        ctx.note(lid, f"{GLOBAL_TABLE} Replicas[{ctx.region}].{key} is not applied locally", property=f"Replicas.{key}")
    for noted in _GLOBAL_NOTED:
        if noted in props:
            ctx.note(lid, f"{GLOBAL_TABLE} {noted} is not applied locally (no effect on stream semantics)",
                     property=noted)
    ctx.ignore_unhandled(lid, GLOBAL_TABLE, props, {"TableName", "KeySchema", "AttributeDefinitions", "BillingMode",
                                                    "Replicas", "WriteProvisionedThroughputSettings",
                                                    "StreamSpecification", "GlobalSecondaryIndexes",
                                                    "LocalSecondaryIndexes", "TimeToLiveSpecification", *_GLOBAL_NOTED})
    attributes = {"Arn": table["TableArn"], "TableId": table.get("TableId") or _table_id(table["TableArn"])}
    if "LatestStreamArn" in table:
        attributes["StreamArn"] = table["LatestStreamArn"]
    return Created(name, attributes)


def _table_params(name: str, props: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    stream = props.get("StreamSpecification")
    if stream:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    if props.get("LocalSecondaryIndexes"):
        params["LocalSecondaryIndexes"] = [
            {k: v for k, v in lsi.items() if k in ("IndexName", "KeySchema", "Projection")}
            for lsi in props["LocalSecondaryIndexes"]
        ]
    return params


def _create(ctx: DeployContext, name: str, params: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    client = ctx.client("dynamodb")
    table = client.create_table(**params)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and boolean(ttl.get("Enabled")):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    return table


def _local_replica(ctx: DeployContext, lid: str, replicas: Any) -> dict[str, Any]:
    if not isinstance(replicas, list) or not all(isinstance(r, dict) for r in replicas):
        raise DeployError(f"{lid} ({GLOBAL_TABLE}): Replicas must be a list of replica specifications")
    local = [r for r in replicas if r.get("Region") == ctx.region]
    if not local:
        regions = ", ".join(str(r.get("Region")) for r in replicas) or "none"
        raise DeployError(f"{lid} ({GLOBAL_TABLE}): Replicas must include the deploy region {ctx.region} "
                          f"(CloudFormation requires it too); it lists: {regions}")
    return local[0]


def _validate_global_table(lid: str, raw: dict[str, Any], ctx: DeployContext) -> None:
    """Replicas checked before anything is created, where the regions are literal (or AWS::Region)."""
    replicas = raw.get("Properties", {}).get("Replicas")
    if not isinstance(replicas, list):
        raise DeployError(f"{lid} ({GLOBAL_TABLE}): Replicas must be a list of replica specifications")
    regions = [ctx.region if r.get("Region") == {"Ref": "AWS::Region"} else r.get("Region") for r in replicas]
    if all(isinstance(region, str) for region in regions):
        _local_replica(ctx, lid, [{"Region": region} for region in regions])


def _throughput(value: dict[str, Any] | None) -> dict[str, int]:
    value = value or {}
    return {
        "ReadCapacityUnits": int(value.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(value.get("WriteCapacityUnits", 5)),
    }


def _auto_scaled(settings: dict[str, Any] | None, default: int = 5) -> int:
    """An auto-scaled capacity as one fixed number: the seed capacity if given, else the minimum."""
    if not settings:
        return default
    return int(settings.get("SeedCapacity") or settings.get("MinCapacity") or default)


def _read_units(settings: dict[str, Any] | None) -> int:
    settings = settings or {}
    if "ReadCapacityUnits" in settings:
        return int(settings["ReadCapacityUnits"])
    return _auto_scaled(settings.get("ReadCapacityAutoScalingSettings"))


def _write_units(settings: dict[str, Any] | None) -> int:
    return _auto_scaled((settings or {}).get("WriteCapacityAutoScalingSettings"))


def _index(gsi: dict[str, Any], billing_mode: str, throughput: dict[str, Any] | None) -> dict[str, Any]:
    index = {k: v for k, v in gsi.items() if k in ("IndexName", "KeySchema", "Projection")}
    if billing_mode == "PROVISIONED":
        index["ProvisionedThroughput"] = _throughput(throughput)
    return index


def _table_id(arn: str) -> str:
    """A stable UUID-shaped id when the backend reports none (moto omits TableId)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, arn))


TYPES = (
    ResourceType(TYPE, create_table, attributes=("Arn", "StreamArn"), required=("KeySchema", "AttributeDefinitions")),
    ResourceType(GLOBAL_TABLE, create_global_table, attributes=("Arn", "StreamArn", "TableId"),
                 required=("KeySchema", "AttributeDefinitions", "Replicas"), validate=_validate_global_table),
)
