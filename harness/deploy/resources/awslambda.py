"""AWS::Lambda::Function, ::Permission, ::EventSourceMapping, ::LayerVersion, ::Version and ::Alias,
deployed to the harness, not moto.

Functions are registered with the local runtime (moto's Lambda would need Docker) and mappings
with the harness's ESM engine (moto's mappings would consume the stream themselves). Layers are
code directories of the assembly, handed to the runtime with each function that lists them;
versions and aliases are names the runtime resolves at invoke time.
"""

from __future__ import annotations

import json
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from harness.deploy.errors import DeployError
from harness.deploy.intrinsics import references
from harness.deploy.resources.base import Created, DeployContext, ResourceType, boolean, physical_name
from harness.notifications.config import function_name_from_arn

FUNCTION = "AWS::Lambda::Function"
PERMISSION = "AWS::Lambda::Permission"
MAPPING = "AWS::Lambda::EventSourceMapping"
LAYER = "AWS::Lambda::LayerVersion"
LAYER_PERMISSION = "AWS::Lambda::LayerVersionPermission"
VERSION = "AWS::Lambda::Version"
ALIAS = "AWS::Lambda::Alias"
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
    _validate_layers(lid, props.get("Layers"), ctx)


# The property that names a resource's code, and what the code is called in errors.
_CODE_PROPERTY = {FUNCTION: ("Code", "function"), LAYER: ("Content", "layer")}


def asset_dir(ctx: DeployContext, lid: str, raw: dict[str, Any]) -> Path:
    """The function's (or layer's) code directory in the cloud assembly.

    `Metadata["aws:asset:path"]` when present (the CDK CLI asks for it); otherwise the asset whose
    S3 object key the `Code` property (a layer's `Content`) names, looked up in the assembly's
    `*.assets.json`.
    """
    rtype = raw.get("Type", FUNCTION)
    prop, what = _CODE_PROPERTY.get(rtype, _CODE_PROPERTY[FUNCTION])
    code = raw.get("Properties", {}).get(prop, {})
    rel = raw.get("Metadata", {}).get("aws:asset:path")
    if rel is None:
        rel = _asset_path_from_manifest(ctx.assembly_dir, code)
    if rel is None:
        raise DeployError(
            f"{lid} ({rtype}): cannot find the {what}'s code: no Metadata['aws:asset:path'] and no asset in "
            f"{ctx.assembly_dir} matching {prop} {json.dumps(code)}"
        )
    path = Path(rel) if Path(rel).is_absolute() else Path(ctx.assembly_dir) / rel
    if not path.is_dir():
        raise DeployError(f"{lid} ({rtype}): code asset directory {path} does not exist")
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


def inline_code_dir(code: str, runtime: str) -> Path:
    """The folder holding a function's inline `Code.ZipFile`, named by its content: every deploy of
    the same code shares one folder, so repeated deploys (a test suite, a watch loop) leave no
    trail of temporary folders. CloudFormation writes inline code to index.py, or index.js for
    Node.js runtimes."""
    inline = "index.js" if runtime.startswith("nodejs") else "index.py"
    digest = hashlib.sha256(f"{inline}\0{code}".encode()).hexdigest()[:24]
    code_dir = Path(tempfile.gettempdir()) / "shardproof-inline" / digest
    target = code_dir / inline
    if not target.is_file() or target.read_text(encoding="utf-8") != code:
        code_dir.mkdir(parents=True, exist_ok=True)
        partial = code_dir / f".{inline}.{os.getpid()}.tmp"
        partial.write_text(code, encoding="utf-8")
        os.replace(partial, target)  # atomic: a concurrent deploy never reads half a file
    return code_dir


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
        code_dir = inline_code_dir(props["Code"]["ZipFile"], str(props.get("Runtime", "")))
    else:
        code_dir = asset_dir(ctx, lid, raw)
    environment = {k: _env_text(v) for k, v in (props.get("Environment", {}).get("Variables") or {}).items()}
    layers = tuple(_layer_dir(ctx, lid, index, arn) for index, arn in enumerate(props.get("Layers") or []))
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
        layers=layers,
        runtime=props["Runtime"],
    )
    ctx.runtime.register(spec)
    ctx.ignore_unhandled(lid, FUNCTION, props, {"FunctionName", "Code", "Handler", "Runtime", "Role", "Environment",
                                                "Timeout", "MemorySize", "Description", "Architectures", "Layers"})
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
    name, qualifier = _function_and_qualifier(str(props["FunctionName"]))
    # An alias or version target stays qualified (the ESM invokes it, and the failure envelope
    # names it, spec 3.2); an unqualified one goes by its bare name, which is how it was registered.
    params["FunctionName"] = ctx.arn("lambda", f"function:{name}:{qualifier}") if qualifier else name
    for flag in ("BisectBatchOnFunctionError", "Enabled"):
        if flag in params:
            params[flag] = boolean(params[flag])
    response = ctx.esm.create_event_source_mapping(**params)
    uuid = response.get("UUID") if isinstance(response, dict) else None
    if not uuid:
        raise DeployError(f"{lid} ({MAPPING}): the ESM engine returned no UUID: {response!r}")
    arn = response.get("EventSourceMappingArn") or ctx.arn("lambda", f"event-source-mapping:{uuid}")
    return Created(uuid, {"Id": uuid, "EventSourceMappingArn": arn})


def _function_and_qualifier(target: str) -> tuple[str, str | None]:
    """A function ARN, partial ARN or name, each optionally `:<alias or version>` (CDK writes
    `<name>:<alias>` for a mapping on an alias) -> (name, qualifier or None)."""
    rest = target.split(":function:", 1)[1] if ":function:" in target else target
    name, _, qualifier = rest.partition(":")
    return name, qualifier or None


# -- layers ----------------------------------------------------------------------------------


def create_layer(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = str(props.get("LayerName") or physical_name(ctx.stack_name, lid, max_length=64))
    if ":layer:" in name:  # LayerName may be the layer's ARN
        name = name.split(":layer:", 1)[1].split(":", 1)[0]
    path = asset_dir(ctx, lid, raw)
    prefix = ctx.arn("lambda", f"layer:{name}:")
    number = 1 + sum(1 for arn in ctx.layers if arn.startswith(prefix))
    arn = f"{prefix}{number}"
    ctx.layers[arn] = path
    for key in ("CompatibleRuntimes", "CompatibleArchitectures"):
        if key in props:
            ctx.note(lid, f"{LAYER} {key} is not checked locally: every function that lists the layer gets it",
                     property=key)
    ctx.ignore_unhandled(lid, LAYER, props, {"LayerName", "Content", "Description", "LicenseInfo",
                                             "CompatibleRuntimes", "CompatibleArchitectures"})
    return Created(arn, {"LayerVersionArn": arn})


def _validate_layer(lid: str, raw: dict[str, Any], ctx: DeployContext) -> None:
    asset_dir(ctx, lid, raw)  # raises with the reason when the layer's code cannot be found


def create_layer_permission(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    ctx.note(lid, "layer permission recorded only: the local runtime shares layers with nobody",
             layer=props.get("LayerVersionArn"), principal=props.get("Principal"))
    return Created(f"{props['LayerVersionArn']}#{lid}", {"Id": f"{props['LayerVersionArn']}#{lid}"})


def _layer_dir(ctx: DeployContext, lid: str, index: int, arn: Any) -> Path:
    if arn not in ctx.layers:
        raise DeployError(f"{lid} ({FUNCTION}): Layers[{index}] {arn!r} is not a layer version of this template: "
                          "the local runtime can only mount layers whose code is an asset of this stack")
    return ctx.layers[arn]


def _validate_layers(lid: str, layers: Any, ctx: DeployContext) -> None:
    """Before anything is created: each entry must come from a LayerVersion of this template (a
    public layer such as Powertools is an ARN the local runtime has no code for)."""
    if layers is None:
        return
    if not isinstance(layers, list):
        raise DeployError(f"{lid} ({FUNCTION}): Layers must be a list of layer version ARNs")
    resources = ctx.template.get("Resources", {})
    for index, entry in enumerate(layers):
        if not any(resources.get(name, {}).get("Type") == LAYER for name in references(entry)):
            raise DeployError(f"{lid} ({FUNCTION}): Layers[{index}] {json.dumps(entry)} is not a layer version of "
                              "this template: the local runtime can only mount layers whose code is an asset of "
                              "this stack")


# -- versions and aliases ----------------------------------------------------------------------


def create_version(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    function = function_name_from_arn(str(props["FunctionName"]))
    version = str(_runtime_call(ctx, lid, VERSION, "publish_version", function))
    arn = ctx.arn("lambda", f"function:{function}:{version}")
    for key in ("ProvisionedConcurrencyConfig", "RuntimePolicy", "FunctionScalingConfig"):
        if key in props:
            ctx.note(lid, f"{VERSION} {key} is not applied locally", property=key)
    ctx.ignore_unhandled(lid, VERSION, props, {"FunctionName", "Description", "CodeSha256",
                                               "ProvisionedConcurrencyConfig", "RuntimePolicy",
                                               "FunctionScalingConfig"})
    return Created(arn, {"FunctionArn": arn, "Version": version})


def create_alias(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    function = function_name_from_arn(str(props["FunctionName"]))
    name, version = str(props["Name"]), str(props["FunctionVersion"])
    _runtime_call(ctx, lid, ALIAS, "register_alias", function, name, version)
    if "RoutingConfig" in props:
        ctx.note(lid, f"alias {name}: weighted routing is not applied locally; every invoke runs version {version}",
                 property="RoutingConfig")
    if "ProvisionedConcurrencyConfig" in props:
        ctx.note(lid, f"{ALIAS} ProvisionedConcurrencyConfig is not applied locally",
                 property="ProvisionedConcurrencyConfig")
    ctx.ignore_unhandled(lid, ALIAS, props, {"FunctionName", "FunctionVersion", "Name", "Description", "RoutingConfig",
                                             "ProvisionedConcurrencyConfig"})
    arn = ctx.arn("lambda", f"function:{function}:{name}")
    return Created(arn, {"AliasArn": arn})


def _runtime_call(ctx: DeployContext, lid: str, rtype: str, method: str, *args: Any) -> Any:
    call = getattr(ctx.runtime, method, None)
    if call is None:
        raise DeployError(f"{lid} ({rtype}): the runtime ({type(ctx.runtime).__name__}) cannot {method}")
    return call(*args)


TYPES = (
    ResourceType(FUNCTION, create_function, attributes=("Arn", "SnapStartResponse.ApplyOn"), required=("Code",),
                 validate=_validate_function, needs="runtime"),
    ResourceType(PERMISSION, create_permission, attributes=(), required=("Action", "FunctionName", "Principal")),
    ResourceType(MAPPING, create_mapping, attributes=("Id", "EventSourceMappingArn"), required=("FunctionName",),
                 needs="esm"),
    ResourceType(LAYER, create_layer, attributes=("LayerVersionArn",), required=("Content",), validate=_validate_layer),
    ResourceType(LAYER_PERMISSION, create_layer_permission, attributes=("Id",),
                 required=("LayerVersionArn", "Action", "Principal")),
    ResourceType(VERSION, create_version, attributes=("FunctionArn", "Version"), required=("FunctionName",),
                 needs="runtime"),
    ResourceType(ALIAS, create_alias, attributes=("AliasArn",), required=("FunctionName", "FunctionVersion", "Name"),
                 needs="runtime"),
)
