"""Custom::S3BucketNotifications (what CDK's `bucket.add_event_notification` synthesizes).

Lambda targets go to the harness's notification service. Queue and topic targets are put on the
backend bucket, where moto delivers them itself. Lambda targets are never put on moto: moto
would try to run the function in its own Lambda (Docker) on every object created.
"""

from __future__ import annotations

from typing import Any

from harness.deploy.errors import DeployError
from harness.deploy.resources.base import Created, DeployContext, ResourceType

TYPE = "Custom::S3BucketNotifications"


def create_notifications(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    bucket = props["BucketName"]
    config = props.get("NotificationConfiguration") or {}
    unknown = set(config) - {"LambdaFunctionConfigurations", "QueueConfigurations", "TopicConfigurations",
                             "EventBridgeConfiguration"}
    if unknown:
        raise DeployError(f"{lid} ({TYPE}): unknown NotificationConfiguration keys: {', '.join(sorted(unknown))}")
    lambdas = config.get("LambdaFunctionConfigurations") or []
    if lambdas:
        ctx.notifications.configure(bucket, {"LambdaFunctionConfigurations": lambdas})
    moto_part = {k: config[k] for k in ("QueueConfigurations", "TopicConfigurations") if config.get(k)}
    if moto_part:
        ctx.client("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=moto_part)
    if "EventBridgeConfiguration" in config:
        ctx.note(lid, "EventBridge bucket notifications are not delivered locally")
    if str(props.get("Managed", True)).lower() == "false":
        ctx.note(lid, "Managed=false (keep existing notifications): the local deploy configures only these")
    return Created(f"{ctx.stack_name}-{lid}", {})


TYPES = (
    ResourceType(TYPE, create_notifications, attributes=None, required=("BucketName", "NotificationConfiguration"),
                 needs="notifications"),
)
