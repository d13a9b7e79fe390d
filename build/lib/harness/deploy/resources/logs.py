"""AWS::Logs::LogGroup, recorded only: function logs go to the journal, not to CloudWatch Logs."""

from __future__ import annotations

from typing import Any

from harness.deploy.resources.base import Created, DeployContext, ResourceType, physical_name

LOG_GROUP = "AWS::Logs::LogGroup"
CDK_METADATA = "AWS::CDK::Metadata"


def create_log_group(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props.get("LogGroupName") or physical_name(ctx.stack_name, lid, max_length=512)
    ctx.note(lid, "log group recorded only: local function logs go to the journal", retention_days=props.get("RetentionInDays"))
    return Created(name, {"Arn": ctx.arn("logs", f"log-group:{name}:*")})


def record_cdk_metadata(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    ctx.note(lid, "CDK version-reporting metadata: nothing to create")
    return Created(f"{ctx.stack_name}-{lid}", {})


TYPES = (
    ResourceType(LOG_GROUP, create_log_group, attributes=("Arn",)),
    ResourceType(CDK_METADATA, record_cdk_metadata, attributes=()),
)
