"""AWS::StepFunctions::StateMachine and ::Activity on the backend's Step Functions, so a consumer's
StartExecution gets a real answer (an execution ARN, then a status DescribeExecution reads).

On the embedded backend moto runs the state machine's definition itself (its interpreter of the
States language, switched on in harness.backends.embedded); a Task state's service call reaches
the backend, but one that invokes Lambda does not reach the local runtime, so such an execution
fails inside moto, as on AWS when the function is missing. The consumer's call succeeds either way.
"""

from __future__ import annotations

import json
from typing import Any

from harness.deploy.errors import DeployError
from harness.deploy.resources.base import Created, DeployContext, ResourceType, physical_name

STATE_MACHINE = "AWS::StepFunctions::StateMachine"
ACTIVITY = "AWS::StepFunctions::Activity"
_NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def definition_text(lid: str, props: dict[str, Any]) -> str:
    """The definition as the API takes it: DefinitionString or Definition, `${key}` replaced from
    DefinitionSubstitutions (CloudFormation does that before creating the machine)."""
    if "DefinitionString" in props:
        text = props["DefinitionString"]
        if not isinstance(text, str):
            raise DeployError(f"{lid} ({STATE_MACHINE}): DefinitionString must resolve to a string")
    elif isinstance(props.get("Definition"), dict):
        text = json.dumps(props["Definition"])
    else:
        raise DeployError(f"{lid} ({STATE_MACHINE}): the local deploy needs Definition or DefinitionString "
                          "(DefinitionS3Location names an S3 object that does not exist locally)")
    for key, value in (props.get("DefinitionSubstitutions") or {}).items():
        text = text.replace("${" + str(key) + "}", value if isinstance(value, str) else json.dumps(value))
    return text


def create_state_machine(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props.get("StateMachineName") or physical_name(ctx.stack_name, lid, max_length=80, allowed=_NAME_CHARS)
    role = props.get("RoleArn") or ctx.arn("iam", "role/harness-stepfunctions-default", region=False)
    params: dict[str, Any] = {"name": name, "definition": definition_text(lid, props), "roleArn": role,
                              "type": props.get("StateMachineType", "STANDARD")}
    if props.get("Tags"):
        params["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in props["Tags"]]
    for key, api_key in (("LoggingConfiguration", "loggingConfiguration"),
                         ("TracingConfiguration", "tracingConfiguration")):
        if key in props:
            ctx.note(lid, f"{STATE_MACHINE} {key} is not applied locally", property=key)
    arn = ctx.client("stepfunctions").create_state_machine(**params)["stateMachineArn"]
    ctx.ignore_unhandled(lid, STATE_MACHINE, props, {"StateMachineName", "Definition", "DefinitionString",
                                                     "DefinitionSubstitutions", "RoleArn", "StateMachineType", "Tags",
                                                     "LoggingConfiguration", "TracingConfiguration"})
    return Created(arn, {"Arn": arn, "Name": name, "StateMachineRevisionId": "INITIAL"})


def _validate_state_machine(lid: str, raw: dict[str, Any], ctx: DeployContext) -> None:
    props = raw.get("Properties", {})
    if not any(k in props for k in ("Definition", "DefinitionString")):
        raise DeployError(f"{lid} ({STATE_MACHINE}): the local deploy needs Definition or DefinitionString "
                          "(DefinitionS3Location names an S3 object that does not exist locally)")


def create_activity(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    arn = ctx.client("stepfunctions").create_activity(name=props["Name"])["activityArn"]
    return Created(arn, {"Arn": arn, "Name": props["Name"]})


TYPES = (
    ResourceType(STATE_MACHINE, create_state_machine, attributes=("Arn", "Name", "StateMachineRevisionId"),
                 validate=_validate_state_machine),
    ResourceType(ACTIVITY, create_activity, attributes=("Arn", "Name"), required=("Name",)),
)
