"""AWS::Kinesis::Stream and AWS::Kinesis::StreamConsumer on the backend's Kinesis (a Kinesis ESM's source)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from harness.deploy.resources.base import Created, DeployContext, ResourceType, physical_name

STREAM = "AWS::Kinesis::Stream"
CONSUMER = "AWS::Kinesis::StreamConsumer"
_STREAM_NOTED = ("StreamEncryption", "DesiredShardLevelMetrics", "WarmThroughputMiBps", "MaxRecordSizeInKiB",
                 "RecordDistributionStrategy")


def create_stream(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props.get("Name") or physical_name(ctx.stack_name, lid, max_length=128)
    mode = (props.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
    params: dict[str, Any] = {"StreamName": name, "StreamModeDetails": {"StreamMode": mode}}
    if mode == "PROVISIONED":
        params["ShardCount"] = int(props.get("ShardCount", 1))
    if props.get("Tags"):
        params["Tags"] = {t["Key"]: t["Value"] for t in props["Tags"]}
    client = ctx.client("kinesis")
    client.create_stream(**params)
    summary = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    if mode == "ON_DEMAND":
        ctx.note(lid, f"ON_DEMAND stream: the backend chose {summary.get('OpenShardCount')} shard(s); AWS scales "
                      "on-demand shards with traffic, the local stream keeps this count", property="StreamModeDetails",
                 shards=summary.get("OpenShardCount"))
    if "RetentionPeriodHours" in props and int(props["RetentionPeriodHours"]) > 24:
        client.increase_stream_retention_period(StreamName=name,
                                                RetentionPeriodHours=int(props["RetentionPeriodHours"]))
    for key in _STREAM_NOTED:
        if key in props:
            ctx.note(lid, f"{STREAM} {key} is not applied locally", property=key)
    ctx.ignore_unhandled(lid, STREAM, props, {"Name", "ShardCount", "StreamModeDetails", "RetentionPeriodHours",
                                              "Tags", *_STREAM_NOTED})
    return Created(name, {"Arn": summary["StreamARN"]})


def create_consumer(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    consumer = ctx.client("kinesis").register_stream_consumer(StreamARN=props["StreamARN"],
                                                              ConsumerName=props["ConsumerName"])["Consumer"]
    created = consumer.get("ConsumerCreationTimestamp")
    ctx.ignore_unhandled(lid, CONSUMER, props, {"StreamARN", "ConsumerName"})
    arn = consumer["ConsumerARN"]
    return Created(arn, {
        "ConsumerARN": arn,
        "ConsumerName": consumer["ConsumerName"],
        "ConsumerStatus": consumer.get("ConsumerStatus", "ACTIVE"),
        "StreamARN": props["StreamARN"],
        "ConsumerCreationTimestamp": created.isoformat() if isinstance(created, datetime) else str(created),
    })


TYPES = (
    ResourceType(STREAM, create_stream, attributes=("Arn",)),
    ResourceType(CONSUMER, create_consumer,
                 attributes=("ConsumerARN", "ConsumerCreationTimestamp", "ConsumerName", "ConsumerStatus", "StreamARN"),
                 required=("ConsumerName", "StreamARN")),
)
