"""AWS::Lambda::Function, ::Permission and ::EventSourceMapping, deployed to the harness, not moto.

Functions are registered with the local runtime (moto's Lambda would need Docker) and mappings
with the harness's ESM engine (moto's mappings would consume the stream themselves).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from harness.deploy.errors import DeployError
from harness.deploy.resources.base import Created, DeployContext, ResourceType, boolean
from harness.notifications.config import function_name_from_arn

FUNCTION = "AWS::Lambda::Function"
PERMISSION = "AWS::Lambda::Permission"
MAPPING = "AWS::Lambda::EventSourceMapping"
# Custom resource types the applier implements natively, so their provider functions need not run.
NATIVE_CUSTOM_TYPES = ("Custom::S3BucketNotifications",)

from harness.runtime import FunctionSpec
from harness.runtime.languages import UnsupportedRuntime, kind_for, supported_runtimes


def function_name(ctx: DeployContext, lid: str, props: dict[str, Any]) -> str:
    """FunctionName, or `<stack>-<logicalid>` cut to Lambda's 64-character limit."""
    return props.get("FunctionName") or f"{ctx.stack_name}-{lid}"[:64]


def provider_for_native_custom_resource(ctx: DeployContext, lid: str) -> str | None:
    """The custom resource this function serves as ServiceToken for, if the applier does its job natively."""
    for other_lid, other in ctx.template.get("Resources", {}).items():
        if other.get("Type") in NATIVE_CUSTOM_TYPES:
            token = other.get("Properties", {}).get("ServiceToken")
            if token in ({"Fn::GetAtt": [lid, "Arn"]}, {"Fn::GetAtt": f"{lid}.Arn"}):
                return other_lid
    return None


def _validate_function(lid: str, raw: dict[str, Any], ctx: DeployContext) -> None:
    props = raw.get("Properties", {})
    if props.get("PackageType") == "Image" or "ImageUri" in props.get("Code", {}):
        raise DeployError(f"{lid} ({FUNCTION}): container-image functions are not supported by the local runtime")
    runtime = props.get("Runtime")
    try:
        kind_for(runtime, function=lid)
    except UnsupportedRuntime:
        raise DeployError(f"{lid} ({FUNCTION}): runtime {runtime!r} is not supported; the local runtime runs "
                          f"{', '.join(supported_runtimes())}") from None
    if "Handler" not in props:
        raise DeployError(f"{lid} ({FUNCTION}): missing required property Handler")
    if provider_for_native_custom_resource(ctx, lid) is None and "ZipFile" not in props.get("Code", {}):
        asset_dir(ctx, lid, raw)  # raises with the reason when the code cannot be found


def asset_dir(ctx: DeployContext, lid: str, raw: dict[str, Any]) -> Path:
    """The function's code directory in the cloud assembly.

    `Metadata["aws:asset:path"]` when present (the CDK CLI asks for it); otherwise the asset whose
    S3 object key the `Code` property names, looked up in the assembly's `*.assets.json`.
    """
    rel = raw.get("Metadata", {}).get("aws:asset:path")
    if rel is None:
        rel = _asset_path_from_manifest(ctx.assembly_dir, raw.get("Properties", {}).get("Code", {}))
    if rel is None:
        raise DeployError(
            f"{lid} ({FUNCTION}): cannot find the function's code: no Metadata['aws:asset:path'] and no asset in "
            f"{ctx.assembly_dir} matching Code {json.dumps(raw.get('Properties', {}).get('Code'))}"
        )
    path = Path(rel) if Path(rel).is_absolute() else Path(ctx.assembly_dir) / rel
    if not path.is_dir():
        raise DeployError(f"{lid} ({FUNCTION}): code asset directory {path} does not exist")
    return path


def _asset_path_from_manifest(assembly_dir: Path, code: dict[str, Any]) -> str | None:
    key = code.get("S3Key")
    if not isinstance(key, str):
        return None
    asset_hash = key.rsplit("/", 1)[-1].split(".", 1)[0]
    for manifest in sorted(Path(assembly_dir).glob("*.assets.json")):
        try:
            files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
        except (OSError, ValueError):
            continue
        if asset_hash in files:
            return files[asset_hash].get("source", {}).get("path")
    return None


def create_function(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = function_name(ctx, lid, props)
    arn = ctx.arn("lambda", f"function:{name}")
    attributes = {"Arn": arn}
    served = provider_for_native_custom_resource(ctx, lid)
    if served is not None:
        ctx.note(lid, f"provider function of {served} not registered: the harness applies that resource natively",
                 function=name)
        return Created(name, attributes)
    if "ZipFile" in props.get("Code", {}):
        code_dir = Path(tempfile.mkdtemp(prefix=f"harness-inline-{name[:40]}-"))
        # CloudFormation writes inline code to index.py, or index.js for Node.js runtimes.
        inline = "index.js" if str(props.get("Runtime", "")).startswith("nodejs") else "index.py"
        (code_dir / inline).write_text(props["Code"]["ZipFile"], encoding="utf-8")
    else:
        code_dir = asset_dir(ctx, lid, raw)
    environment = {k: _env_text(v) for k, v in (props.get("Environment", {}).get("Variables") or {}).items()}
    spec = FunctionSpec(
        name=name,
        code_dir=code_dir,
        handler=props["Handler"],
        environment=environment,
        timeout_s=float(props.get("Timeout", 3)),
        memory_mb=int(props.get("MemorySize", 128)),
        arn=arn,
        # Resolved already: CDK writes Fn::GetAtt [<its ServiceRole>, Arn], created before this
        # function because the reference orders it first. The runtime validates the value.
        role_arn=props.get("Role"),
        runtime=props["Runtime"],
    )
    ctx.runtime.register(spec)
    ctx.ignore_unhandled(lid, FUNCTION, props, {"FunctionName", "Code", "Handler", "Runtime", "Role", "Environment",
                                                "Timeout", "MemorySize", "Description", "Architectures"})
    return Created(name, attributes)


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def create_permission(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    ctx.note(lid, "Lambda permission recorded only: the local runtime does not check resource policies",
             function=function_name_from_arn(str(props["FunctionName"])), principal=props.get("Principal"),
             source_arn=props.get("SourceArn"))
    return Created(f"{ctx.stack_name}-{lid}", {})


# CloudFormation property -> the Lambda API's CreateEventSourceMapping parameter, where they differ.
_MAPPING_CONVERSIONS = {"Tags": lambda tags: {t["Key"]: t["Value"] for t in tags}}


def create_mapping(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    params: dict[str, Any] = {}
    for key, value in props.items():
        params[key] = _MAPPING_CONVERSIONS[key](value) if key in _MAPPING_CONVERSIONS else value
    params["FunctionName"] = function_name_from_arn(str(props["FunctionName"]))
    for flag in ("BisectBatchOnFunctionError", "Enabled"):
        if flag in params:
            params[flag] = boolean(params[flag])
    response = ctx.esm.create_event_source_mapping(**params)
    uuid = response.get("UUID") if isinstance(response, dict) else None
    if not uuid:
        raise DeployError(f"{lid} ({MAPPING}): the ESM engine returned no UUID: {response!r}")
    arn = response.get("EventSourceMappingArn") or ctx.arn("lambda", f"event-source-mapping:{uuid}")
    return Created(uuid, {"Id": uuid, "EventSourceMappingArn": arn})


TYPES = (
    ResourceType(FUNCTION, create_function, attributes=("Arn", "SnapStartResponse.ApplyOn"), required=("Code",),
                 validate=_validate_function, needs="runtime"),
    ResourceType(PERMISSION, create_permission, attributes=(), required=("Action", "FunctionName", "Principal")),
    ResourceType(MAPPING, create_mapping, attributes=("Id", "EventSourceMappingArn"), required=("FunctionName",),
                 needs="esm"),
)
