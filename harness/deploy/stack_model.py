"""The model of a stack's stream pipelines: stream -> mapping -> consumer -> on-failure destination -> handler.

Plain frozen data, read from the template alone before anything is deployed (template_reader.py
builds it), so `shardproof describe`, `shardproof lint`, the scenario runner and the oracle all see the
stack as it is written: the mapping's settings as deployed (Lambda API names, defaults filled in,
spec 7.1), not the context keys that produced them. What the template alone cannot tell is kept as
written and explained in `StackDescription.notes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


_CDK_SUFFIX = re.compile(r"[0-9A-F]{8}")


def names_logical_id(name: str | None, logical_id: str | None) -> bool:
    """Whether `name` names `logical_id`: the logical id itself, or the construct id a CDK app gave
    it (CDK appends an 8-hex-digit hash: `OrdersTable` names `OrdersTable3C4F1A2B`), or a Serverless
    Framework function's key in serverless.yml (`ordersConsumer` names `OrdersConsumerLambdaFunction`),
    so a scenario can say what its author wrote."""
    if name is None or logical_id is None:
        return False
    return logical_id == name or logical_id == serverless_function_logical_id(name) or (
        logical_id.startswith(name) and _CDK_SUFFIX.fullmatch(logical_id[len(name):]) is not None)


def serverless_function_logical_id(name: str) -> str:
    """The logical id Serverless Framework gives the function keyed `name` in serverless.yml
    (its provider's getNormalizedFunctionName: `-` -> Dash, `_` -> Underscore, first letter upper)."""
    normal = name.replace("-", "Dash").replace("_", "Underscore")
    return normal[:1].upper() + normal[1:] + "LambdaFunction"


class PipelineLookupError(LookupError):
    """No pipeline, or several, match what was asked; the message lists the ones there are."""


@dataclass(frozen=True)
class StreamDesc:
    """A stream a mapping reads: a DynamoDB table's stream, or a Kinesis data stream."""

    logical_id: str  # the table (AWS::DynamoDB::Table / GlobalTable) or AWS::Kinesis::Stream
    kind: str  # "dynamodb" | "kinesis"
    resource_type: str
    key_schema: tuple[str, ...] = ()  # DynamoDB: key attribute names, HASH first, then RANGE
    stream_view_type: str | None = None  # DynamoDB only
    consumer: str | None = None  # Kinesis: the AWS::Kinesis::StreamConsumer the mapping reads through
    retention_hours: Any = 24  # how long a record stays readable: 24 on DynamoDB; Kinesis RetentionPeriodHours
    replicas: tuple[Any, ...] = ()  # AWS::DynamoDB::GlobalTable: the replica Regions as written


@dataclass(frozen=True)
class DestinationDesc:
    kind: str  # "s3" | "sqs" | "sns"
    logical_id: str | None  # the bucket/queue/topic of this template; None for an ARN from elsewhere
    arn: Any  # as written in the template (may be an intrinsic)
    fifo: bool = False


@dataclass(frozen=True)
class FunctionDesc:
    logical_id: str
    runtime: str | None
    handler: str | None
    timeout_s: float = 3.0
    memory_mb: int = 128
    environment: dict[str, Any] = field(default_factory=dict)  # as written (values may be intrinsics)
    role: str | None = None  # logical id of its AWS::IAM::Role, when it is one of this template
    layers: tuple[str, ...] = ()  # logical ids of AWS::Lambda::LayerVersion
    code_path: str | None = None  # Metadata aws:asset:path (relative to the assembly) when known
    function_name: Any = None  # the FunctionName property as written; None when CloudFormation names it


@dataclass(frozen=True)
class MappingDesc:
    logical_id: str
    source: str | None  # logical id of the StreamDesc; None when EventSourceArn is not from this template
    function: str  # logical id of the consumer AWS::Lambda::Function (through a Version or Alias)
    qualifier: str | None  # logical id of the AWS::Lambda::Alias / ::Version the mapping names, if any
    settings: dict[str, Any]  # CreateEventSourceMapping parameters, defaults filled (BatchSize, MaximumRetryAttempts...)
    destination: DestinationDesc | None
    event_source_arn: Any = None  # EventSourceArn as written (an intrinsic, a literal ARN, an import)
    source_kind: str | None = None  # "dynamodb" | "kinesis", also when `source` is None but the ARN says which


@dataclass(frozen=True)
class NotificationDesc:
    """An S3 event notification that invokes a function (directly or through the CDK's custom resource)."""

    bucket: str  # logical id
    function: str  # logical id
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""
    admits_failure_records: bool = False  # its events and filter admit ESM failure-record keys (spec 4)
    declared_by: str = ""  # the Custom::S3BucketNotifications or the AWS::S3::Bucket that declares it


@dataclass(frozen=True)
class AlertDesc:
    """Where a failure handler may send alerts: a resource its environment or policy names."""

    kind: str  # "sns" | "sqs" | "events" | "ses"
    logical_id: str  # "default" for EventBridge's default bus (not a resource of the template)
    function: str  # the failure handler's logical id
    via: str = ""  # why: "environment ALERT_TOPIC_ARN", "policy ses:SendEmail"...


@dataclass(frozen=True)
class PipelineDesc:
    """One stream pipeline as the template writes it; `harness.pipeline.LocalPipeline` is a deployed, running one."""

    mapping: MappingDesc
    stream: StreamDesc | None
    consumer: FunctionDesc
    notifications: tuple[NotificationDesc, ...] = ()  # on the S3 destination bucket
    failure_handlers: tuple[FunctionDesc, ...] = ()  # the functions those notifications invoke
    alerts: tuple[AlertDesc, ...] = ()

    @property
    def label(self) -> str:
        """`ConsumerMapping (SourceTable -> ConsumerFunction)`: how lists and errors name a pipeline."""
        source = self.mapping.source or "a stream from outside the template"
        if self.stream is not None and self.stream.consumer:
            source = f"{source} via {self.stream.consumer}"
        consumer = f"{self.mapping.function}:{self.mapping.qualifier}" if self.mapping.qualifier else self.mapping.function
        return f"{self.mapping.logical_id} ({source} -> {consumer})"


@dataclass(frozen=True)
class StoodInDesc:
    """A resource the local deploy will not create but stand in for (Ref and GetAtt of its shape only)."""

    logical_id: str
    resource_type: str
    reason: str


@dataclass(frozen=True)
class StackDescription:
    """Every stream pipeline of one stack's template, and the streams and functions they draw on."""

    stack_name: str
    pipelines: tuple[PipelineDesc, ...]
    streams: tuple[StreamDesc, ...] = ()
    functions: tuple[FunctionDesc, ...] = ()
    notes: tuple[str, ...] = ()  # what describe could not resolve, in plain words
    stood_in: tuple[StoodInDesc, ...] = ()  # resources a local deploy stands in for, with the reason

    def pipeline(self, *, mapping: str | None = None, table: str | None = None) -> PipelineDesc:
        """The one pipeline matching the mapping and/or stream logical id; PipelineLookupError lists them.

        `table` matches the stream a mapping reads (a table, a Kinesis stream, or the Kinesis
        consumer it reads through). With neither given, a stack with exactly one pipeline gives it.
        """
        matches = [p for p in self.pipelines
                   if (mapping is None or names_logical_id(mapping, p.mapping.logical_id))
                   and (table is None or names_logical_id(table, p.mapping.source)
                        or names_logical_id(table, p.stream.consumer if p.stream else None))]
        if len(matches) == 1:
            return matches[0]
        asked = ", ".join(f"{k}={v!r}" for k, v in (("mapping", mapping), ("table", table)) if v is not None)
        listing = "; ".join(p.label for p in self.pipelines)
        if not self.pipelines:
            raise PipelineLookupError(
                f"stack {self.stack_name} has no stream pipeline: no AWS::Lambda::EventSourceMapping of its template "
                "reads a DynamoDB or Kinesis stream" + (f" (asked for {asked})" if asked else ""))
        if not matches:
            raise PipelineLookupError(f"stack {self.stack_name} has no pipeline with {asked}; its pipelines: {listing}")
        raise PipelineLookupError(
            f"stack {self.stack_name} has {len(matches)} pipelines{' with ' + asked if asked else ''}; "
            f"choose one by mapping or table: {'; '.join(p.label for p in matches)}")

    def function_code_dirs(self, assembly_dir: Path | str) -> dict[str, Path]:
        """Each function's code folder (logical id -> folder) where the template says where it is:
        `code_path` is relative to the assembly the template was synthesized into."""
        return {f.logical_id: Path(assembly_dir) / f.code_path for f in self.functions if f.code_path}


__all__ = ["AlertDesc", "DestinationDesc", "FunctionDesc", "MappingDesc", "NotificationDesc", "PipelineDesc",
           "PipelineLookupError", "StackDescription", "StoodInDesc", "StreamDesc", "names_logical_id"]
