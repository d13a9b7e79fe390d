"""AWS::SQS::Queue and AWS::SQS::QueuePolicy on the backend's SQS (e.g. an on-failure destination)."""

from __future__ import annotations

import json
from typing import Any

from harness.deploy.resources.base import Created, DeployContext, ResourceType, attribute_text, boolean, physical_name

QUEUE = "AWS::SQS::Queue"
QUEUE_POLICY = "AWS::SQS::QueuePolicy"
_ATTRIBUTES = ("DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
               "VisibilityTimeout", "RedrivePolicy", "RedriveAllowPolicy", "FifoQueue", "ContentBasedDeduplication",
               "KmsMasterKeyId", "SqsManagedSseEnabled", "DeduplicationScope", "FifoThroughputLimit")


def create_queue(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    fifo = boolean(props.get("FifoQueue", False))
    name = props.get("QueueName") or physical_name(ctx.stack_name, lid, max_length=80 - (5 if fifo else 0))
    if fifo and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = {key: attribute_text(props[key]) for key in _ATTRIBUTES if key in props}
    params: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
    if props.get("Tags"):
        params["tags"] = {tag["Key"]: tag["Value"] for tag in props["Tags"]}
    client = ctx.client("sqs")
    url = client.create_queue(**params)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ctx.ignore_unhandled(lid, QUEUE, props, {"QueueName", "Tags", *_ATTRIBUTES})
    return Created(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})


def create_queue_policy(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    client = ctx.client("sqs")
    for url in props["Queues"]:
        client.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
    return Created(f"{ctx.stack_name}-{lid}", {"Id": f"{ctx.stack_name}-{lid}"})


TYPES = (
    ResourceType(QUEUE, create_queue, attributes=("Arn", "QueueName", "QueueUrl")),
    ResourceType(QUEUE_POLICY, create_queue_policy, attributes=("Id",), required=("PolicyDocument", "Queues")),
)
