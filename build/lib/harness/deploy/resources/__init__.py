"""Resource handlers, one module per service (as moto does), and the registry the applier uses.

A handler turns one resolved CloudFormation resource into a real resource on the backend (or
into a registration with the harness's local runtime / ESM engine / notification service) and
returns its physical ID and attributes, which Ref and Fn::GetAtt then read.
"""

from __future__ import annotations

from harness.deploy.resources.base import Created, DeployContext, ResourceType, physical_name
from harness.deploy.resources import (
    awslambda,
    cloudwatch,
    dynamodb,
    events,
    iam,
    kinesis,
    kms,
    logs,
    notifications,
    s3,
    ses,
    sns,
    sqs,
    ssm,
)

REGISTRY: dict[str, ResourceType] = {}
for _module in (dynamodb, s3, sns, sqs, iam, awslambda, notifications, cloudwatch, logs, kms, events, ses, ssm,
                kinesis):
    for _rtype in _module.TYPES:
        REGISTRY[_rtype.name] = _rtype


def supported_types() -> list[str]:
    """Every resource type the local deployer can create, for error messages and docs."""
    return sorted(REGISTRY)


__all__ = ["Created", "DeployContext", "ResourceType", "REGISTRY", "physical_name", "supported_types"]
