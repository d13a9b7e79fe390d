"""Streams, functions and stream event source mappings as a template writes them.

A mapping names its stream and its function through references (`Fn::GetAtt [Table, StreamArn]`,
`Ref Alias`, an ARN built with `Fn::Sub`...); each is followed back to the logical id it names.
What cannot be followed from the template alone (an imported ARN, a literal from another stack)
is kept as written and explained in a note, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from harness.deploy.pipelines import DestinationDesc, FunctionDesc, MappingDesc, StreamDesc
from harness.deploy.template_index import Pointer, TemplateIndex, has_intrinsic, show
from harness.notifications.config import function_name_from_arn

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
KINESIS_STREAM = "AWS::Kinesis::Stream"
KINESIS_CONSUMER = "AWS::Kinesis::StreamConsumer"
FUNCTION = "AWS::Lambda::Function"
ALIAS = "AWS::Lambda::Alias"
VERSION = "AWS::Lambda::Version"
LAYER = "AWS::Lambda::LayerVersion"
MAPPING = "AWS::Lambda::EventSourceMapping"
DESTINATION_TYPES = {"AWS::S3::Bucket": "s3", "AWS::SQS::Queue": "sqs", "AWS::SNS::Topic": "sns"}

DYNAMODB_RETENTION_HOURS = 24  # spec 8
KINESIS_DEFAULT_RETENTION_HOURS = 24  # spec 10

# CreateEventSourceMapping's stream settings with the API's defaults (spec 7.1 and 1), in the
# order the Lambda console lists them. StartingPosition has no default: it is required.
SETTING_DEFAULTS: dict[str, Any] = {
    "Enabled": True,
    "BatchSize": 100,
    "MaximumBatchingWindowInSeconds": 0,
    "StartingPosition": None,
    "StartingPositionTimestamp": None,
    "ParallelizationFactor": 1,
    "MaximumRetryAttempts": -1,
    "MaximumRecordAgeInSeconds": -1,
    "BisectBatchOnFunctionError": False,
    "TumblingWindowInSeconds": 0,
    "FunctionResponseTypes": [],
    "FilterCriteria": None,
    "MetricsConfig": None,
}
INT_SETTINGS = frozenset({"BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor",
                          "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "TumblingWindowInSeconds"})
BOOL_SETTINGS = frozenset({"Enabled", "BisectBatchOnFunctionError"})
# Described elsewhere in MappingDesc (source, function, destination) or with no effect on delivery.
NOT_SETTINGS = frozenset({"EventSourceArn", "FunctionName", "DestinationConfig", "Tags", "KmsKeyArn"})
# Properties that only non-stream sources (SQS, Kafka, MQ, DocumentDB) take.
NON_STREAM_PROPERTIES = ("Queues", "Topics", "SelfManagedEventSource", "SourceAccessConfigurations",
                         "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig",
                         "DocumentDBEventSourceConfig", "ScalingConfig")


# -- streams -----------------------------------------------------------------------------------

def read_streams(ix: TemplateIndex) -> dict[str, StreamDesc]:
    """Every table with a stream and every Kinesis data stream, by logical id, in template order."""
    streams: dict[str, StreamDesc] = {}
    for lid in ix.of_type(*TABLE_TYPES, KINESIS_STREAM):
        if not ix.deployed(lid):
            continue
        stream = _table_stream(ix, lid) if ix.type_of(lid) in TABLE_TYPES else _kinesis_stream(ix, lid)
        if stream is not None:
            streams[lid] = stream
    return streams


def _table_stream(ix: TemplateIndex, lid: str) -> StreamDesc | None:
    props = ix.props(lid)
    spec = props.get("StreamSpecification")
    if not isinstance(spec, dict) or "StreamViewType" not in spec:
        return None  # no stream: GetAtt StreamArn of it would fail to deploy (noted by the mapping)
    view, problem = ix.resolve(spec["StreamViewType"], where=f"{lid}.StreamSpecification.StreamViewType")
    if problem:
        ix.note(f"{lid}: StreamViewType {show(view)} cannot be read from the template alone ({problem})")
    replicas = tuple(r.get("Region") for r in props.get("Replicas") or () if isinstance(r, dict))
    return StreamDesc(logical_id=lid, kind="dynamodb", resource_type=ix.type_of(lid) or "",
                      key_schema=key_schema(props.get("KeySchema")), stream_view_type=view,
                      retention_hours=DYNAMODB_RETENTION_HOURS, replicas=replicas)


def key_schema(value: Any) -> tuple[str, ...]:
    """Key attribute names, the HASH key first, then the RANGE key (whatever order they are written in)."""
    if not isinstance(value, list):
        return ()
    order = {"HASH": 0, "RANGE": 1}
    keys = [k for k in value if isinstance(k, dict) and isinstance(k.get("AttributeName"), str)]
    keys.sort(key=lambda k: order.get(str(k.get("KeyType")), 2))
    return tuple(k["AttributeName"] for k in keys)


def _kinesis_stream(ix: TemplateIndex, lid: str) -> StreamDesc:
    written = ix.props(lid).get("RetentionPeriodHours", KINESIS_DEFAULT_RETENTION_HOURS)
    hours, problem = ix.resolve(written, where=f"{lid}.RetentionPeriodHours")
    if problem:
        ix.note(f"{lid}: RetentionPeriodHours {show(written)} cannot be read from the template alone ({problem})")
    else:
        hours = _as_int(hours, hours)
    return StreamDesc(logical_id=lid, kind="kinesis", resource_type=KINESIS_STREAM, retention_hours=hours)


# -- functions ---------------------------------------------------------------------------------

def read_functions(ix: TemplateIndex) -> dict[str, FunctionDesc]:
    """Every AWS::Lambda::Function, by logical id, in template order."""
    functions: dict[str, FunctionDesc] = {}
    for lid in ix.of_type(FUNCTION):
        if ix.deployed(lid):
            functions[lid] = _function(ix, lid)
    return functions


def _function(ix: TemplateIndex, lid: str) -> FunctionDesc:
    props = ix.props(lid)
    env = (props.get("Environment") or {}).get("Variables") or {}
    role = ix.pointer(props.get("Role"))
    layers = []
    for i, layer in enumerate(props.get("Layers") or ()):
        p = ix.pointer(layer)
        if p.logical_id and ix.type_of(p.logical_id) == LAYER:
            layers.append(p.logical_id)
        else:
            ix.note(f"{lid}: Layers[{i}] {show(layer)} is not a layer of this template")
    metadata = ix.resources[lid].get("Metadata") or {}
    return FunctionDesc(
        logical_id=lid,
        runtime=_plain(ix, lid, "Runtime", props.get("Runtime")),
        handler=_plain(ix, lid, "Handler", props.get("Handler")),
        timeout_s=_number(ix, lid, "Timeout", props.get("Timeout", 3), float),
        memory_mb=_number(ix, lid, "MemorySize", props.get("MemorySize", 128), int),
        environment=dict(env) if isinstance(env, dict) else {},
        role=role.logical_id if role.logical_id and ix.type_of(role.logical_id) == "AWS::IAM::Role" else None,
        layers=tuple(layers),
        code_path=metadata.get("aws:asset:path") if isinstance(metadata, dict) else None,
        function_name=props.get("FunctionName"),
    )


def _plain(ix: TemplateIndex, lid: str, name: str, written: Any) -> Any:
    value, problem = ix.resolve(written, where=f"{lid}.{name}")
    if problem:
        ix.note(f"{lid}: {name} {show(written)} cannot be read from the template alone ({problem}); kept as written")
    return value


def _number(ix: TemplateIndex, lid: str, name: str, written: Any, kind: type) -> Any:
    value = _plain(ix, lid, name, written)
    try:
        return kind(value)
    except (TypeError, ValueError):
        return value  # kept as written; the note above (or the template's own error) says why


def function_target(ix: TemplateIndex, value: Any) -> tuple[str | None, str | None, str]:
    """(function logical id, alias/version logical id, how it was found or why not) for a
    FunctionName or an ARN: a Ref/GetAtt of a function, alias or version, a literal name or ARN
    matching a function's FunctionName, or an ARN built with Fn::Join/Fn::Sub."""
    p = ix.pointer(value)
    if p.logical_id and not p.built:
        return _from_resource(ix, p.logical_id)
    if p.built:
        return _from_built(ix, value, p)
    if isinstance(p.literal, str) and p.literal:
        return _from_literal(ix, p.literal, p.parameter)
    return None, None, f"{show(value)} names no function of this template"


def _from_resource(ix: TemplateIndex, lid: str, depth: int = 0) -> tuple[str | None, str | None, str]:
    rtype = ix.type_of(lid)
    if rtype == FUNCTION:
        return lid, None, ""
    if rtype in (ALIAS, VERSION) and depth == 0:
        inner = ix.props(lid).get("FunctionName")
        p = ix.pointer(inner)
        if p.logical_id and not p.built:
            fn, _, why = _from_resource(ix, p.logical_id, depth + 1)
        elif isinstance(p.literal, str):
            fn, _, why = _from_literal(ix, p.literal, p.parameter)
        else:
            fn, why = None, f"{lid}'s FunctionName {show(inner)} names no function of this template"
        return fn, lid if fn else None, why
    return None, None, f"{lid} is a {rtype}, not a Lambda function, alias or version"


def _from_built(ix: TemplateIndex, value: Any, p: Pointer) -> tuple[str | None, str | None, str]:
    for lid in p.candidates:
        if ix.type_of(lid) in (ALIAS, VERSION):
            return _from_resource(ix, lid)
    for lid in p.candidates:
        if ix.type_of(lid) == FUNCTION:
            qualifier_name = _written_qualifier(value)
            qualifier = _alias_named(ix, lid, qualifier_name) if qualifier_name else None
            why = f"read from the ARN {show(value)} built from {lid}"
            if qualifier_name and qualifier is None:
                why += f"; its qualifier {qualifier_name!r} is no alias of this template"
            return lid, qualifier, why
    return None, None, f"{show(value)} builds an ARN from no function of this template"


def _from_literal(ix: TemplateIndex, text: str, parameter: str | None) -> tuple[str | None, str | None, str]:
    name = function_name_from_arn(text)
    qualifier_name = text.split(":function:", 1)[1].partition(":")[2] if ":function:" in text else ""
    origin = f" (the Default of parameter {parameter})" if parameter else ""
    for lid in ix.of_type(FUNCTION):
        written, problem = ix.resolve(ix.props(lid).get("FunctionName"))
        if problem is None and written == name:
            qualifier = _alias_named(ix, lid, qualifier_name) if qualifier_name else None
            why = f"matched by its FunctionName {name!r}{origin}"
            if qualifier_name and qualifier is None:
                why += f"; its qualifier {qualifier_name!r} is no alias of this template"
            return lid, qualifier, why
    return None, None, f"{text!r}{origin} is no FunctionName of this template"


def _written_qualifier(value: Any) -> str:
    """The `:qualifier` an ARN built with Fn::Join or Fn::Sub ends with, if it is written literally."""
    if isinstance(value, dict) and "Fn::Join" in value:
        arg = value["Fn::Join"]
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list) and arg[1]:
            last, delimiter = arg[1][-1], arg[0]
            if isinstance(last, str) and delimiter == "" and re.fullmatch(r":[\w$-]+", last):
                return last[1:]
            if isinstance(last, str) and delimiter == ":" and len(arg[1]) > 1 and isinstance(arg[1][-2], dict):
                return last
    if isinstance(value, dict) and "Fn::Sub" in value:
        arg = value["Fn::Sub"]
        text = arg if isinstance(arg, str) else arg[0] if isinstance(arg, list) and arg else ""
        m = re.search(r"\}:([\w$-]+)$", text) if isinstance(text, str) else None
        if m:
            return m.group(1)
    return ""


def _alias_named(ix: TemplateIndex, function: str, name: str) -> str | None:
    for lid in ix.of_type(ALIAS):
        props = ix.props(lid)
        alias_name, _ = ix.resolve(props.get("Name"))
        if alias_name == name and ix.pointer(props.get("FunctionName")).logical_id == function:
            return lid
    return None


# -- mappings ----------------------------------------------------------------------------------

def read_mapping(ix: TemplateIndex, lid: str, streams: dict[str, StreamDesc],
                 functions: dict[str, FunctionDesc]) -> tuple[MappingDesc, StreamDesc | None] | None:
    """The mapping and the stream it reads (with `consumer` set when it reads through one), or
    None, with a note saying why, when it is not a stream mapping this template can describe."""
    props = ix.props(lid)
    read = _event_source(ix, lid, props, streams)
    if read is None:
        return None
    stream, kind = read
    fn, qualifier, why = function_target(ix, props.get("FunctionName"))
    if fn is None or fn not in functions:
        ix.note(f"{lid}: FunctionName {show(props.get('FunctionName'))}: {why or 'not a function of this template'}; "
                "the mapping is not described")
        return None
    if why:
        ix.note(f"{lid}: consumer {fn} {why}")
    mapping = MappingDesc(
        logical_id=lid,
        source=stream.logical_id if stream else None,
        function=fn,
        qualifier=qualifier,
        settings=read_settings(ix, lid, props),
        destination=read_destination(ix, lid, props),
        event_source_arn=props.get("EventSourceArn"),
        source_kind=kind,
    )
    return mapping, stream


def _event_source(ix: TemplateIndex, lid: str, props: dict[str, Any],
                  streams: dict[str, StreamDesc]) -> tuple[StreamDesc | None, str | None] | None:
    """(stream, kind) a mapping reads; None (noted) when it reads something that is not a stream."""
    written = props.get("EventSourceArn")
    p = ix.pointer(written)
    target = p.logical_id
    if target and p.built:
        target = next((c for c in p.candidates if ix.type_of(c) in (*TABLE_TYPES, KINESIS_STREAM, KINESIS_CONSUMER)),
                      None)
        if target:
            ix.note(f"{lid}: EventSourceArn {show(written)} is built with an intrinsic; read as the stream of {target}")
    if target:
        return _source_resource(ix, lid, target, p.attribute if not p.built else None, streams)
    if isinstance(p.literal, str) and p.literal:
        return _source_literal(ix, lid, p.literal, p.parameter)
    if any(props.get(k) for k in NON_STREAM_PROPERTIES) or "StartingPosition" not in props:
        ix.note(f"{lid}: EventSourceArn {show(written)} is not a stream of this template and the mapping has no "
                "StartingPosition (which every stream mapping needs): not described as a stream pipeline")
        return None
    ix.note(f"{lid}: EventSourceArn {show(written)} cannot be read from the template alone (an import or a "
            "value given at deploy time); the stream is unknown")
    return None, None


def _source_resource(ix: TemplateIndex, lid: str, target: str, attribute: str | None,
                     streams: dict[str, StreamDesc]) -> tuple[StreamDesc | None, str | None] | None:
    rtype = ix.type_of(target)
    if rtype == KINESIS_CONSUMER:
        if attribute == "StreamARN":  # GetAtt Consumer.StreamARN is the stream itself, not the consumer
            p = ix.pointer(ix.props(target).get("StreamARN"))
            return _source_resource(ix, lid, p.logical_id, p.attribute, streams) if p.logical_id else (None, "kinesis")
        stream_ptr = ix.pointer(ix.props(target).get("StreamARN"))
        stream = streams.get(stream_ptr.logical_id or "")
        if stream is None:
            ix.note(f"{lid}: reads Kinesis stream consumer {target}, whose StreamARN "
                    f"{show(ix.props(target).get('StreamARN'))} is not a stream of this template")
            return None, "kinesis"
        return replace(stream, consumer=target), "kinesis"
    if rtype in TABLE_TYPES:
        if target not in streams:
            ix.note(f"{lid}: reads {target}, which has no StreamSpecification: the stream does not exist "
                    "and the mapping would fail to deploy")
            return None, "dynamodb"
        if attribute not in (None, "StreamArn"):
            ix.note(f"{lid}: EventSourceArn is {target}.{attribute}, not its StreamArn: the mapping needs the stream ARN")
        return streams[target], "dynamodb"
    if rtype == KINESIS_STREAM:
        if attribute is None:
            ix.note(f"{lid}: EventSourceArn is Ref {target}, the stream's name; the mapping needs its Arn (GetAtt)")
        return streams.get(target), "kinesis"
    ix.note(f"{lid}: EventSourceArn names {target} ({rtype}), not a DynamoDB or Kinesis stream: "
            "not described as a stream pipeline")
    return None


def _source_literal(ix: TemplateIndex, lid: str, arn: str, parameter: str | None) -> tuple[None, str] | None:
    service = arn.split(":")[2] if arn.startswith("arn:") and arn.count(":") >= 5 else ""
    origin = f" (the Default of parameter {parameter}; a deploy may pass another)" if parameter else ""
    if service in ("dynamodb", "kinesis"):
        ix.note(f"{lid}: EventSourceArn {arn!r}{origin} is a stream from outside this template")
        return None, service
    ix.note(f"{lid}: EventSourceArn {arn!r}{origin} is not a DynamoDB or Kinesis stream: "
            "not described as a stream pipeline")
    return None


def read_settings(ix: TemplateIndex, lid: str, props: dict[str, Any]) -> dict[str, Any]:
    """The mapping's settings as the Lambda API names them, defaults filled (spec 7.1, 1).

    A value given through a parameter is read at the parameter's Default (noted); a value that
    needs the deploy is kept as written (noted)."""
    settings = dict(SETTING_DEFAULTS)
    for name, written in props.items():
        if name in NOT_SETTINGS:
            continue
        if name not in SETTING_DEFAULTS:
            ix.note(f"{lid}: property {name} is not a stream mapping setting the harness reads; left out of its settings")
            continue
        settings[name] = _setting(ix, lid, name, written)
    if settings["StartingPosition"] is None:
        ix.note(f"{lid}: no StartingPosition, which stream mappings require (spec 7.1)")
    return settings


def _setting(ix: TemplateIndex, lid: str, name: str, written: Any) -> Any:
    value, problem = ix.resolve(written, where=f"{lid}.{name}")
    if problem:
        ix.note(f"{lid}: {name} is {show(written)}, which cannot be read from the template alone ({problem}); "
                "kept as written")
        return written
    value = _typed(ix, lid, name, value)
    if has_intrinsic(written):
        params = ix.parameters_in(written)
        origin = f"the Default of parameter {', '.join(params)}" if params else "the parameter defaults"
        ix.note(f"{lid}: {name} is {show(written)}: read as {value!r} ({origin}); a deploy may pass another value")
    return value


def _typed(ix: TemplateIndex, lid: str, name: str, value: Any) -> Any:
    """CloudFormation's own conversions: "25" for an integer setting, "true" for a boolean one."""
    if name in INT_SETTINGS:
        converted = _as_int(value, None)
        if converted is None:
            ix.note(f"{lid}: {name} {value!r} is not an integer; kept as written")
            return value
        return converted
    if name in BOOL_SETTINGS:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            ix.note(f"{lid}: {name} {value!r} is not a boolean; kept as written")
        return value
    if name == "StartingPositionTimestamp" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _as_int(value: Any, fallback: Any) -> Any:
    if isinstance(value, bool):
        return fallback
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return fallback


# -- destination -------------------------------------------------------------------------------

def read_destination(ix: TemplateIndex, lid: str, props: dict[str, Any]) -> DestinationDesc | None:
    """DestinationConfig.OnFailure.Destination: kind from the resource type or the ARN's service."""
    config = props.get("DestinationConfig")
    on_failure = config.get("OnFailure") if isinstance(config, dict) else None
    written = on_failure.get("Destination") if isinstance(on_failure, dict) else None
    if written is None or written == "":
        if isinstance(config, dict) and config.get("OnSuccess"):
            ix.note(f"{lid}: DestinationConfig.OnSuccess is not accepted for stream mappings (spec 3.1)")
        return None
    p = ix.pointer(written)
    target = p.logical_id
    if target and p.built:
        target = next((c for c in p.candidates if ix.type_of(c) in DESTINATION_TYPES), None)
        if target:
            ix.note(f"{lid}: on-failure destination {show(written)} is built with an intrinsic; read as {target}")
    if target:
        return _destination_resource(ix, lid, target, p.attribute if not p.built else "Arn", written)
    if isinstance(p.literal, str) and p.literal:
        return _destination_literal(ix, lid, p.literal, p.parameter, written)
    ix.note(f"{lid}: on-failure destination {show(written)} cannot be read from the template alone; its kind is unknown")
    return DestinationDesc(kind="unknown", logical_id=None, arn=written)


def _destination_resource(ix: TemplateIndex, lid: str, target: str, attribute: str | None,
                          written: Any) -> DestinationDesc:
    rtype = ix.type_of(target) or ""
    kind = DESTINATION_TYPES.get(rtype)
    if kind is None:
        ix.note(f"{lid}: on-failure destination {target} is a {rtype}, not an SQS queue, SNS topic or S3 bucket (spec 3.1)")
        return DestinationDesc(kind=rtype.split("::")[1].lower() if rtype.count("::") == 2 else "unknown",
                               logical_id=target, arn=written)
    if kind == "s3" and attribute is None:
        ix.note(f"{lid}: on-failure destination Ref {target} is the bucket's name; Lambda needs its ARN (GetAtt Arn)")
    if kind == "sqs" and attribute is None:
        ix.note(f"{lid}: on-failure destination Ref {target} is the queue's URL; Lambda needs its ARN (GetAtt Arn)")
    return DestinationDesc(kind=kind, logical_id=target, arn=written, fifo=_fifo(ix, target, kind))


def _fifo(ix: TemplateIndex, lid: str, kind: str) -> bool:
    props = ix.props(lid)
    flag, name = {"sqs": ("FifoQueue", "QueueName"), "sns": ("FifoTopic", "TopicName")}.get(kind, (None, None))
    if flag is None:
        return False
    value, _ = ix.resolve(props.get(flag, False))
    written_name, _ = ix.resolve(props.get(name))
    return str(value).lower() == "true" or (isinstance(written_name, str) and written_name.endswith(".fifo"))


def _destination_literal(ix: TemplateIndex, lid: str, arn: str, parameter: str | None, written: Any) -> DestinationDesc:
    origin = f" (the Default of parameter {parameter}; a deploy may pass another)" if parameter else ""
    if arn.startswith("kafka://"):
        ix.note(f"{lid}: on-failure destination {arn!r}{origin} is a Kafka topic, which only Kafka mappings accept (spec 3.1)")
        return DestinationDesc(kind="kafka", logical_id=None, arn=written)
    service = arn.split(":")[2] if arn.startswith("arn:") and arn.count(":") >= 5 else "unknown"
    if service not in ("s3", "sqs", "sns"):
        ix.note(f"{lid}: on-failure destination {arn!r}{origin} is not an SQS queue, SNS topic or S3 bucket ARN (spec 3.1)")
    else:
        ix.note(f"{lid}: on-failure destination {arn!r}{origin} is from outside this template")
    return DestinationDesc(kind=service, logical_id=None, arn=written, fifo=arn.endswith(".fifo"))
