"""AWS::Events::EventBus and AWS::Events::Rule on the backend's EventBridge, so a failure handler's
PutEvents reaches the rule's SQS and SNS targets.

Lambda targets are never put on the backend: on the embedded backend moto would run the
function in its own Lambda (Docker). Targets moto cannot deliver to would make every matching
PutEvents fail there, so only queue, topic, log group and event bus targets are put on a rule.
"""

from __future__ import annotations

import json
from typing import Any

from harness.deploy.errors import DeployError
from harness.deploy.resources.base import Created, DeployContext, ResourceType, physical_name

EVENT_BUS = "AWS::Events::EventBus"
RULE = "AWS::Events::Rule"
# Target services the backend's EventBridge delivers to (moto: SQS, log groups, buses, and SNS
# through harness.backends.moto_events); everything else is noted instead of put.
_DELIVERED = ("sqs", "sns", "logs", "events")
_RULE_NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_"
_TARGET_KEYS = ("Id", "Arn", "Input", "InputPath", "InputTransformer", "SqsParameters", "RetryPolicy",
                "DeadLetterConfig", "RoleArn")


def create_event_bus(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props["Name"]
    params: dict[str, Any] = {"Name": name}
    if "Description" in props:
        params["Description"] = props["Description"]
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    arn = ctx.client("events").create_event_bus(**params)["EventBusArn"]
    for key in ("Policy", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig", "EventSourceName"):
        if key in props:
            ctx.note(lid, f"{EVENT_BUS} {key} is not applied locally", property=key)
    ctx.ignore_unhandled(lid, EVENT_BUS, props, {"Name", "Description", "Tags", "Policy", "KmsKeyIdentifier",
                                                 "DeadLetterConfig", "LogConfig", "EventSourceName"})
    policy = props.get("Policy")
    return Created(name, {"Arn": arn, "Name": name,
                          "Policy": json.dumps(policy) if isinstance(policy, dict) else (policy or "")})


def create_rule(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props.get("Name") or physical_name(ctx.stack_name, lid, max_length=64, allowed=_RULE_NAME_CHARS)
    bus = _bus_name(props.get("EventBusName") or "default")
    params: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": _state(lid, props.get("State", "ENABLED"))}
    if "EventPattern" in props:
        pattern = props["EventPattern"]
        params["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    if "ScheduleExpression" in props:
        params["ScheduleExpression"] = props["ScheduleExpression"]
        ctx.note(lid, f"schedule {props['ScheduleExpression']!r} is not run locally: the rule's targets are invoked "
                      "only by matching events", property="ScheduleExpression")
    for key in ("Description", "RoleArn"):
        if key in props:
            params[key] = props[key]
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    client = ctx.client("events")
    arn = client.put_rule(**params)["RuleArn"]
    targets = [_target(ctx, lid, index, target) for index, target in enumerate(props.get("Targets") or [])]
    targets = [t for t in targets if t is not None]
    if targets:
        client.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    ctx.ignore_unhandled(lid, RULE, props, {"Name", "EventBusName", "State", "EventPattern", "ScheduleExpression",
                                            "Description", "RoleArn", "Tags", "Targets"})
    # Ref: the rule name on the default bus, `<bus>|<rule>` on any other (CloudFormation's own form).
    ref = name if bus == "default" else f"{bus}|{name}"
    return Created(ref, {"Arn": arn, "RuleName": name})


def _target(ctx: DeployContext, lid: str, index: int, target: dict[str, Any]) -> dict[str, Any] | None:
    arn = str(target["Arn"])
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    if service == "lambda":
        # UNFINISHED: EventBridge -> Lambda is asynchronous invocation with its own retry policy;
        # the harness has no delivery path for it yet (the notification service polls S3, and
        # moto's events backend cannot call the local runtime). Noted, not invoked.
        ctx.note(lid, f"Targets[{index}] ({target.get('Id')}): Lambda function {arn} is not invoked locally by "
                      "this rule (EventBridge -> Lambda delivery is not implemented by the harness)",
                 property="Targets", target=arn)
        return None
    if service not in _DELIVERED:
        ctx.note(lid, f"Targets[{index}] ({target.get('Id')}): {service or 'unknown'} target {arn} is not delivered "
                      "locally", property="Targets", target=arn)
        return None
    out = {key: target[key] for key in _TARGET_KEYS if key in target}
    for key in sorted(set(target) - set(_TARGET_KEYS)):
        ctx.note(lid, f"Targets[{index}].{key} is not applied locally", property=f"Targets.{key}")
    if "Input" in out or "InputPath" in out:
        ctx.note(lid, f"Targets[{index}] Input/InputPath: the embedded backend (moto) ignores them and delivers the "
                      "whole event (it applies only InputTransformer); LocalStack and AWS apply them",
                 property="Targets.Input")
    if "RetryPolicy" in out or "DeadLetterConfig" in out:
        ctx.note(lid, f"Targets[{index}] RetryPolicy/DeadLetterConfig are stored, not exercised: local delivery "
                      "does not fail", property="Targets.RetryPolicy")
    return out


def _bus_name(value: str) -> str:
    """EventBusName may be a name or an ARN (`...:event-bus/<name>`); PutRule takes either, Ref needs the name."""
    return value.rsplit("event-bus/", 1)[-1] if ":event-bus/" in value else value


def _state(lid: str, state: Any) -> str:
    if state == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS":
        return "ENABLED"
    if state not in ("ENABLED", "DISABLED"):
        raise DeployError(f"{lid} ({RULE}): State must be ENABLED, DISABLED or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_"
                          f"EVENTS, got {state!r}")
    return str(state)


def _validate_rule(lid: str, raw: dict[str, Any], ctx: DeployContext) -> None:
    props = raw.get("Properties", {})
    if "EventPattern" not in props and "ScheduleExpression" not in props:
        raise DeployError(f"{lid} ({RULE}): a rule needs an EventPattern or a ScheduleExpression")
    targets = props.get("Targets") or []
    if not isinstance(targets, list):
        raise DeployError(f"{lid} ({RULE}): Targets must be a list")
    for index, target in enumerate(targets):
        if not isinstance(target, dict) or "Arn" not in target or "Id" not in target:
            raise DeployError(f"{lid} ({RULE}): Targets[{index}] needs an Arn and an Id")
    if isinstance(props.get("State"), str):
        _state(lid, props["State"])


TYPES = (
    ResourceType(EVENT_BUS, create_event_bus, attributes=("Arn", "Name", "Policy"), required=("Name",)),
    ResourceType(RULE, create_rule, attributes=("Arn", "RuleName"), validate=_validate_rule),
)
