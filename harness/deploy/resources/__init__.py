"""Resource handlers, one module per service (as moto does), and the registry the applier uses.

A handler turns one resolved CloudFormation resource into a real resource on the backend (or
into a registration with the harness's local runtime / ESM engine / notification service) and
returns its physical ID and attributes, which Ref and Fn::GetAtt then read.
"""

from __future__ import annotations

from harness.deploy.resources.base import Created, DeployContext, ResourceType, physical_name
from harness.deploy.resources import (
    apigateway,
    awslambda,
    cloudwatch,
    custom,
    dynamodb,
    events,
    iam,
    kinesis,
    kms,
    logs,
    notifications,
    s3,
    secretsmanager,
    ses,
    sns,
    sqs,
    ssm,
    standin,
    stepfunctions,
)

REGISTRY: dict[str, ResourceType] = {}
for _module in (dynamodb, s3, sns, sqs, iam, awslambda, notifications, cloudwatch, logs, kms, events, ses, ssm,
                kinesis, apigateway, stepfunctions, secretsmanager):
    for _rtype in _module.TYPES:
        REGISTRY[_rtype.name] = _rtype


def supported_types() -> list[str]:
    """Every resource type the local deployer can create, for error messages and docs."""
    return sorted(REGISTRY)


def handler_for(resource_type: str) -> ResourceType | None:
    """The handler that creates `resource_type`; None when it is stood in for (standin.py says how).

    Custom resources share one handler: it runs their provider the way CloudFormation does."""
    if resource_type in REGISTRY:
        return REGISTRY[resource_type]
    if custom.is_custom(resource_type):
        return custom.CUSTOM
    return None


def stand_in_reason(resource_type: str) -> str | None:
    """Why the local deploy will not create `resource_type` (None: it creates it), for describe and lint."""
    if handler_for(resource_type) is not None:
        return None
    return standin.REASON


__all__ = ["Created", "DeployContext", "ResourceType", "REGISTRY", "physical_name", "supported_types",
           "handler_for", "stand_in_reason"]
