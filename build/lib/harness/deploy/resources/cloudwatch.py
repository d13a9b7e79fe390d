"""AWS::CloudWatch::Alarm in the backend's CloudWatch, so tests can see the alarms the stack defines."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from harness.deploy.resources.base import Created, DeployContext, ResourceType, physical_name

ALARM = "AWS::CloudWatch::Alarm"
_PASSED = ("AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions", "MetricName",
           "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit", "EvaluationPeriods",
           "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile",
           "Metrics", "ThresholdMetricId")


def create_alarm(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props.get("AlarmName") or physical_name(ctx.stack_name, lid, max_length=255)
    params: dict[str, Any] = {"AlarmName": name, **{k: props[k] for k in _PASSED if k in props}}
    for numeric in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if numeric in params:
            params[numeric] = int(params[numeric])
    if "Threshold" in params:
        params["Threshold"] = float(params["Threshold"])
    try:
        ctx.client("cloudwatch").put_metric_alarm(**params)
    except ClientError as exc:
        ctx.note(lid, f"alarm recorded only: the backend rejected put_metric_alarm: {exc}")
    arn = ctx.arn("cloudwatch", f"alarm:{name}")
    ctx.ignore_unhandled(lid, ALARM, props, {"AlarmName", *_PASSED})
    return Created(name, {"Arn": arn})


TYPES = (
    ResourceType(ALARM, create_alarm, attributes=("Arn",), required=("ComparisonOperator", "EvaluationPeriods")),
)
