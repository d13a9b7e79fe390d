"""AWS::Logs::LogGroup in the backend's CloudWatch Logs, so a function (or CDK's LogRetention
provider) that reads or configures the group finds it. Function logs still go to the journal."""

from __future__ import annotations

from typing import Any

from harness.deploy.resources.base import Created, DeployContext, ResourceType, physical_name

LOG_GROUP = "AWS::Logs::LogGroup"
CDK_METADATA = "AWS::CDK::Metadata"


def create_log_group(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props.get("LogGroupName") or physical_name(ctx.stack_name, lid, max_length=512)
    client = ctx.client("logs")
    params: dict[str, Any] = {"logGroupName": name}
    if props.get("KmsKeyId"):
        params["kmsKeyId"] = props["KmsKeyId"]
    if props.get("Tags"):
        params["tags"] = {t["Key"]: t["Value"] for t in props["Tags"]}
    client.create_log_group(**params)
    if "RetentionInDays" in props:
        client.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
    ctx.note(lid, "log group created; local function logs go to the journal, not to it",
             retention_days=props.get("RetentionInDays"))
    ctx.ignore_unhandled(lid, LOG_GROUP, props, {"LogGroupName", "KmsKeyId", "Tags", "RetentionInDays"})
    return Created(name, {"Arn": ctx.arn("logs", f"log-group:{name}:*")})


def record_cdk_metadata(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    ctx.note(lid, "CDK version-reporting metadata: nothing to create")
    return Created(f"{ctx.stack_name}-{lid}", {})


TYPES = (
    ResourceType(LOG_GROUP, create_log_group, attributes=("Arn",)),
    ResourceType(CDK_METADATA, record_cdk_metadata, attributes=()),
)
