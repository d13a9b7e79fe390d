"""AWS::SNS::Topic, AWS::SNS::TopicPolicy and AWS::SNS::Subscription on the backend's SNS."""

from __future__ import annotations

import json
from typing import Any

from harness.deploy.resources.base import Created, DeployContext, ResourceType, attribute_text, boolean, physical_name

TOPIC = "AWS::SNS::Topic"
TOPIC_POLICY = "AWS::SNS::TopicPolicy"
SUBSCRIPTION = "AWS::SNS::Subscription"
_TOPIC_ATTRIBUTES = {"DisplayName": "DisplayName", "KmsMasterKeyId": "KmsMasterKeyId",
                     "ContentBasedDeduplication": "ContentBasedDeduplication", "FifoTopic": "FifoTopic",
                     "SignatureVersion": "SignatureVersion", "TracingConfig": "TracingConfig"}


def create_topic(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    fifo = boolean(props.get("FifoTopic", False))
    name = props.get("TopicName") or physical_name(ctx.stack_name, lid, max_length=256 - (5 if fifo else 0))
    if fifo and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = {api: attribute_text(props[cfn]) for cfn, api in _TOPIC_ATTRIBUTES.items() if cfn in props}
    params: dict[str, Any] = {"Name": name, "Attributes": attributes}
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    client = ctx.client("sns")
    arn = client.create_topic(**params)["TopicArn"]
    for sub in props.get("Subscription", []):
        client.subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])
    ctx.ignore_unhandled(lid, TOPIC, props, {"TopicName", "Tags", "Subscription", *_TOPIC_ATTRIBUTES})
    return Created(arn, {"TopicArn": arn, "TopicName": name})


def create_topic_policy(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    client = ctx.client("sns")
    for topic in props["Topics"]:
        client.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(props["PolicyDocument"]))
    ctx.note(lid, "topic policies are stored but not enforced by the embedded backend")
    return Created(f"{ctx.stack_name}-{lid}", {"Id": f"{ctx.stack_name}-{lid}"})


def create_subscription(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    attributes = {k: attribute_text(props[k]) for k in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy")
                  if k in props}
    arn = ctx.client("sns").subscribe(
        TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props.get("Endpoint", ""),
        Attributes=attributes, ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    ctx.ignore_unhandled(lid, SUBSCRIPTION, props, {"TopicArn", "Protocol", "Endpoint", "Region", *attributes})
    return Created(arn, {"Arn": arn})


TYPES = (
    ResourceType(TOPIC, create_topic, attributes=("TopicArn", "TopicName")),
    ResourceType(TOPIC_POLICY, create_topic_policy, attributes=("Id",), required=("PolicyDocument", "Topics")),
    ResourceType(SUBSCRIPTION, create_subscription, attributes=("Arn",), required=("TopicArn", "Protocol")),
)
