"""AWS::S3::Bucket and AWS::S3::BucketPolicy on the backend's S3.

A bucket's own `NotificationConfiguration` (CloudFormation's native shape) goes through the
harness's notification service, never into moto, which would try to invoke Lambda itself.
"""

from __future__ import annotations

import json
import string
from typing import Any

from harness.deploy.errors import DeployError
from harness.deploy.resources.base import Created, DeployContext, ResourceType, boolean, physical_name

BUCKET = "AWS::S3::Bucket"
POLICY = "AWS::S3::BucketPolicy"
_BUCKET_CHARS = string.ascii_lowercase + string.digits + "-."


def create_bucket(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props.get("BucketName") or physical_name(
        ctx.stack_name, lid, max_length=63, lowercase=True, allowed=_BUCKET_CHARS
    ).strip("-.")
    client = ctx.client("s3")
    create: dict[str, Any] = {"Bucket": name}
    if ctx.region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
    client.create_bucket(**create)
    handled = {"BucketName"}

    if "BucketEncryption" in props:
        rules = [
            {k.replace("ServerSideEncryptionByDefault", "ApplyServerSideEncryptionByDefault"): v for k, v in rule.items()}
            for rule in props["BucketEncryption"].get("ServerSideEncryptionConfiguration", [])
        ]
        client.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        handled.add("BucketEncryption")
    if "PublicAccessBlockConfiguration" in props:
        client.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=_bools(props["PublicAccessBlockConfiguration"])
        )
        handled.add("PublicAccessBlockConfiguration")
    if "VersioningConfiguration" in props:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]})
        handled.add("VersioningConfiguration")
    if "LifecycleConfiguration" in props:
        rules = [_lifecycle_rule(lid, i, rule) for i, rule in enumerate(props["LifecycleConfiguration"].get("Rules", []))]
        client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
        handled.add("LifecycleConfiguration")
    if "OwnershipControls" in props:
        client.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
        handled.add("OwnershipControls")
    if props.get("Tags"):
        client.put_bucket_tagging(Bucket=name, Tagging={"TagSet": props["Tags"]})
        handled.add("Tags")
    if "NotificationConfiguration" in props:
        _native_notifications(ctx, lid, name, props["NotificationConfiguration"])
        handled.add("NotificationConfiguration")
    ctx.ignore_unhandled(lid, BUCKET, props, handled)
    return Created(name, bucket_attributes(name, ctx.region, ctx.partition))


def bucket_attributes(name: str, region: str, partition: str = "aws") -> dict[str, str]:
    return {
        "Arn": f"arn:{partition}:s3:::{name}",
        "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
        "DualStackDomainName": f"{name}.s3.dualstack.{region}.amazonaws.com",
        "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com",
    }


def _bools(config: dict[str, Any]) -> dict[str, bool]:
    return {k: v if isinstance(v, bool) else str(v).lower() == "true" for k, v in config.items()}


def _lifecycle_rule(lid: str, index: int, rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's flat lifecycle rule -> the S3 API's nested one."""
    out: dict[str, Any] = {"ID": rule.get("Id", f"{lid}-rule-{index}"), "Status": rule.get("Status", "Enabled")}
    if "Prefix" in rule or "TagFilters" in rule:
        tags = rule.get("TagFilters") or []
        if tags and "Prefix" in rule:
            out["Filter"] = {"And": {"Prefix": rule["Prefix"], "Tags": tags}}
        elif tags:
            out["Filter"] = {"Tag": tags[0]} if len(tags) == 1 else {"And": {"Tags": tags}}
        else:
            out["Filter"] = {"Prefix": rule["Prefix"]}
    else:
        out["Filter"] = {"Prefix": ""}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    elif "ExpirationDate" in rule:
        out["Expiration"] = {"Date": rule["ExpirationDate"]}
    elif "ExpiredObjectDeleteMarker" in rule:
        out["Expiration"] = {"ExpiredObjectDeleteMarker": boolean(rule["ExpiredObjectDeleteMarker"])}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    if "NoncurrentVersionExpirationInDays" in rule:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(rule["NoncurrentVersionExpirationInDays"])}
    elif "NoncurrentVersionExpiration" in rule:
        out["NoncurrentVersionExpiration"] = rule["NoncurrentVersionExpiration"]
    transitions = rule.get("Transitions") or []
    if transitions:
        out["Transitions"] = [
            {"Days" if "TransitionInDays" in t else "Date": t.get("TransitionInDays", t.get("TransitionDate")),
             "StorageClass": t["StorageClass"]}
            for t in transitions
        ]
    if len(out) == 3 and "Filter" in out:
        raise DeployError(f"{lid}: LifecycleConfiguration.Rules[{index}] has no action (expiration, transition, abort)")
    return out


def _native_notifications(ctx: DeployContext, lid: str, bucket: str, config: dict[str, Any]) -> None:
    """CloudFormation's bucket-native shape (`LambdaConfigurations`: Event, Function, Filter.S3Key.Rules)
    -> the S3 API shape the notification service takes."""
    lambdas = []
    for item in config.get("LambdaConfigurations", []):
        entry: dict[str, Any] = {"LambdaFunctionArn": item["Function"], "Events": [item["Event"]]}
        rules = (item.get("Filter") or {}).get("S3Key", {}).get("Rules")
        if rules:
            entry["Filter"] = {"Key": {"FilterRules": rules}}
        lambdas.append(entry)
    if lambdas:
        ctx.notifications.configure(bucket, {"LambdaFunctionConfigurations": lambdas})
    for other in ("QueueConfigurations", "TopicConfigurations", "EventBridgeConfiguration"):
        if other in config:
            ctx.note(lid, f"bucket NotificationConfiguration.{other} is not applied locally", property=other)


def create_bucket_policy(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    bucket = props["Bucket"]
    document, dropped = local_policy(props["PolicyDocument"], getattr(ctx.backend, "endpoint_url", None))
    if dropped:
        ctx.note(lid, "TLS-only Deny statement(s) not applied: the local backend speaks plain HTTP, so they would "
                      "deny every request (on AWS every SDK request is HTTPS and they never match)",
                 statements=dropped)
    if document.get("Statement"):
        ctx.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
    return Created(bucket, {})


def local_policy(document: dict[str, Any], endpoint_url: str | None) -> tuple[dict[str, Any], list[str]]:
    """The policy to put on a local bucket: without `aws:SecureTransport=false` Deny statements when the
    endpoint is plain HTTP (moto evaluates bucket policies, so CDK's enforceSSL would block all writes)."""
    if not (endpoint_url or "").startswith("http://"):
        return document, []
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept, dropped = [], []
    for index, statement in enumerate(statements):
        if _is_tls_only_deny(statement):
            dropped.append(statement.get("Sid") or f"Statement[{index}]")
        else:
            kept.append(statement)
    return {**document, "Statement": kept}, dropped


def _is_tls_only_deny(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition") or {}
    return (
        statement.get("Effect") == "Deny"
        and list(condition) == ["Bool"]
        and {k.lower(): str(v).lower() for k, v in condition["Bool"].items()} == {"aws:securetransport": "false"}
    )


def _validate_bucket(lid: str, raw: dict[str, Any], ctx: DeployContext) -> None:
    """Checked before anything is created: found at create time, the bucket would already exist."""
    config = raw.get("Properties", {}).get("NotificationConfiguration") or {}
    if config.get("LambdaConfigurations") and ctx.notifications is None:
        raise DeployError(f"{lid}: bucket notifications to Lambda need a notification service, none was given")


def _validate_bucket_policy(lid: str, raw: dict[str, Any], ctx: DeployContext) -> None:
    if not isinstance(raw.get("Properties", {}).get("PolicyDocument"), dict):
        raise DeployError(f"{lid} ({POLICY}): PolicyDocument must be a JSON object")


TYPES = (
    ResourceType(BUCKET, create_bucket,
                 attributes=("Arn", "DomainName", "RegionalDomainName", "DualStackDomainName", "WebsiteURL"),
                 validate=_validate_bucket),
    ResourceType(POLICY, create_bucket_policy, attributes=(), required=("Bucket", "PolicyDocument"),
                 validate=_validate_bucket_policy),
)
