"""AWS::IAM::Role, AWS::IAM::Policy and AWS::IAM::ManagedPolicy in the backend's IAM.

The embedded backend does not enforce IAM, but creating the roles keeps ARNs and RoleIds real
and lets tests inspect what the stack grants (e.g. the s3:ResourceAccount condition).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from harness.deploy.resources.base import Created, DeployContext, ResourceType, physical_name

ROLE = "AWS::IAM::Role"
# IAM itself takes a policy without Version (it then reads the 2008-10-17 language); moto refuses
# anything older than 2012-10-17. The two differ only in policy variables, which the embedded
# backend never evaluates (it enforces no IAM), so 2012-10-17 is what is stored locally.
LOCAL_POLICY_VERSION = "2012-10-17"
POLICY = "AWS::IAM::Policy"
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"


def policy_text(ctx: DeployContext, lid: str, document: Any) -> str:
    """The policy to store. A document without Version (SAM's inline `Policies: [{Statement: ...}]`)
    is valid on AWS but refused by moto: it is stored with Version 2012-10-17, and a note says so."""
    if isinstance(document, dict) and "Version" not in document:
        ctx.note(lid, f"policy document has no Version (AWS reads it as 2008-10-17); stored locally as "
                      f"{LOCAL_POLICY_VERSION}, which the backend requires")
        document = {"Version": LOCAL_POLICY_VERSION, **document}
    return json.dumps(document)


def create_role(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props.get("RoleName") or physical_name(ctx.stack_name, lid, max_length=64)
    client = ctx.client("iam")
    params: dict[str, Any] = {
        "RoleName": name,
        "AssumeRolePolicyDocument": policy_text(ctx, lid, props["AssumeRolePolicyDocument"]),
        "Path": props.get("Path", "/"),
    }
    for key in ("Description", "MaxSessionDuration", "PermissionsBoundary"):
        if key in props:
            params[key] = props[key]
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    role = client.create_role(**params)["Role"]
    for arn in props.get("ManagedPolicyArns", []):
        try:
            client.attach_role_policy(RoleName=name, PolicyArn=arn)
        except ClientError as exc:
            ctx.note(lid, f"managed policy {arn} could not be attached locally: {exc}", policy_arn=arn)
    for policy in props.get("Policies", []):
        client.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                               PolicyDocument=policy_text(ctx, lid, policy["PolicyDocument"]))
    ctx.ignore_unhandled(lid, ROLE, props, {"RoleName", "AssumeRolePolicyDocument", "Path", "Description",
                                            "MaxSessionDuration", "PermissionsBoundary", "Tags",
                                            "ManagedPolicyArns", "Policies"})
    return Created(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})


def create_policy(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    client = ctx.client("iam")
    name = props["PolicyName"]
    document = policy_text(ctx, lid, props["PolicyDocument"])
    for role in props.get("Roles", []):
        client.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document)
    for user in props.get("Users", []):
        client.put_user_policy(UserName=user, PolicyName=name, PolicyDocument=document)
    for group in props.get("Groups", []):
        client.put_group_policy(GroupName=group, PolicyName=name, PolicyDocument=document)
    physical = physical_name(ctx.stack_name[:5], lid[:5], max_length=32)
    return Created(physical, {"Id": physical})


def create_managed_policy(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    client = ctx.client("iam")
    name = props.get("ManagedPolicyName") or physical_name(ctx.stack_name, lid, max_length=128)
    params: dict[str, Any] = {"PolicyName": name, "PolicyDocument": policy_text(ctx, lid, props["PolicyDocument"]),
                              "Path": props.get("Path", "/")}
    if "Description" in props:
        params["Description"] = props["Description"]
    arn = client.create_policy(**params)["Policy"]["Arn"]
    for role in props.get("Roles", []):
        client.attach_role_policy(RoleName=role, PolicyArn=arn)
    return Created(arn, {"PolicyArn": arn})


TYPES = (
    ResourceType(ROLE, create_role, attributes=("Arn", "RoleId"), required=("AssumeRolePolicyDocument",)),
    ResourceType(POLICY, create_policy, attributes=("Id",), required=("PolicyName", "PolicyDocument")),
    ResourceType(MANAGED_POLICY, create_managed_policy, attributes=("PolicyArn",), required=("PolicyDocument",)),
)
