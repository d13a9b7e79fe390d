"""AWS::KMS::Key and AWS::KMS::Alias on the backend's KMS (e.g. the key of an SSE-KMS failure bucket)."""

from __future__ import annotations

import json
from typing import Any

from harness.deploy.resources.base import Created, DeployContext, ResourceType, boolean

KEY = "AWS::KMS::Key"
ALIAS = "AWS::KMS::Alias"
_KEY_HANDLED = ("KeyPolicy", "Description", "KeyUsage", "KeySpec", "MultiRegion", "Origin", "Tags",
                "BypassPolicyLockoutSafetyCheck", "EnableKeyRotation", "RotationPeriodInDays", "Enabled",
                "PendingWindowInDays")


def create_key(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    params: dict[str, Any] = {}
    if "KeyPolicy" in props:
        policy = props["KeyPolicy"]
        params["Policy"] = policy if isinstance(policy, str) else json.dumps(policy)
    for key in ("Description", "KeyUsage", "KeySpec", "Origin"):
        if key in props:
            params[key] = props[key]
    for flag in ("MultiRegion", "BypassPolicyLockoutSafetyCheck"):
        if flag in props:
            params[flag] = boolean(props[flag])
    if props.get("Tags"):
        params["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props["Tags"]]
    client = ctx.client("kms")
    meta = client.create_key(**params)["KeyMetadata"]
    key_id = meta["KeyId"]
    if boolean(props.get("EnableKeyRotation", False)):
        rotation: dict[str, Any] = {"KeyId": key_id}
        if "RotationPeriodInDays" in props:
            rotation["RotationPeriodInDays"] = int(props["RotationPeriodInDays"])
        client.enable_key_rotation(**rotation)
    if "Enabled" in props and not boolean(props["Enabled"]):
        client.disable_key(KeyId=key_id)
    if "PendingWindowInDays" in props:
        ctx.note(lid, "PendingWindowInDays applies only when the key is deleted; a local stack is never deleted "
                      "through CloudFormation", property="PendingWindowInDays")
    ctx.ignore_unhandled(lid, KEY, props, set(_KEY_HANDLED))
    return Created(key_id, {"Arn": meta["Arn"], "KeyId": key_id})


def create_alias(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props["AliasName"]
    ctx.client("kms").create_alias(AliasName=name, TargetKeyId=_key_id(props["TargetKeyId"]))
    ctx.ignore_unhandled(lid, ALIAS, props, {"AliasName", "TargetKeyId"})
    return Created(name, {})


def _key_id(value: str) -> str:
    """CreateAlias takes a key id or key ARN; CDK passes the ARN. The id is accepted everywhere."""
    return value.rsplit("key/", 1)[-1] if ":key/" in value else value


TYPES = (
    ResourceType(KEY, create_key, attributes=("Arn", "KeyId")),
    ResourceType(ALIAS, create_alias, attributes=(), required=("AliasName", "TargetKeyId")),
)
