"""AWS::SSM::Parameter in the backend's Parameter Store (configuration a handler reads at run time)."""

from __future__ import annotations

from typing import Any

from harness.deploy.errors import DeployError
from harness.deploy.resources.base import Created, DeployContext, ResourceType, physical_name

PARAMETER = "AWS::SSM::Parameter"
_TYPES = ("String", "StringList")
_PASSED = ("Description", "AllowedPattern", "Tier", "DataType", "Policies")


def create_parameter(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    # CloudFormation's generated names are simple (no '/'), like `CFN-<logical id>-<random>`.
    name = props.get("Name") or physical_name("CFN", lid, max_length=128)
    value = props["Value"]
    if isinstance(value, list):
        value = ",".join(map(str, value))
    params: dict[str, Any] = {"Name": name, "Value": str(value), "Type": props["Type"],
                              **{k: props[k] for k in _PASSED if k in props}}
    if props.get("Tags"):
        tags = props["Tags"]
        params["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()] if isinstance(tags, dict) else tags
    ctx.client("ssm").put_parameter(**params)
    ctx.ignore_unhandled(lid, PARAMETER, props, {"Name", "Value", "Type", "Tags", *_PASSED})
    arn_name = name if name.startswith("/") else f"/{name}"
    return Created(name, {"Type": props["Type"], "Value": params["Value"],
                          "Arn": ctx.arn("ssm", f"parameter{arn_name}")})


def _validate_parameter(lid: str, raw: dict[str, Any], ctx: DeployContext) -> None:
    ptype = raw.get("Properties", {}).get("Type")
    if isinstance(ptype, str) and ptype not in _TYPES:
        raise DeployError(f"{lid} ({PARAMETER}): Type must be String or StringList (CloudFormation cannot create a "
                          f"SecureString), got {ptype!r}")


TYPES = (
    ResourceType(PARAMETER, create_parameter, attributes=("Type", "Value", "Arn"), required=("Type", "Value"),
                 validate=_validate_parameter),
)
