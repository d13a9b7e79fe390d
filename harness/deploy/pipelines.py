"""The pipelines a template holds: stream -> mapping -> consumer -> on-failure destination -> handler.

Read from the template alone, before anything is deployed, so `harness describe`, `harness lint`,
the scenario runner and the oracle all see the stack as it is written: the mapping's settings as
deployed (Lambda API names, defaults filled in, spec 7.1), not the context keys that produced them.

INTERFACE PINNED, IMPLEMENTATION IN PROGRESS (issue 11): `describe_template` is being written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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


@dataclass(frozen=True)
class MappingDesc:
    logical_id: str
    source: str | None  # logical id of the StreamDesc; None when EventSourceArn is not from this template
    function: str  # logical id of the consumer AWS::Lambda::Function (through a Version or Alias)
    qualifier: str | None  # logical id of the AWS::Lambda::Alias / ::Version the mapping names, if any
    settings: dict[str, Any]  # CreateEventSourceMapping parameters, defaults filled (BatchSize, MaximumRetryAttempts...)
    destination: DestinationDesc | None


@dataclass(frozen=True)
class NotificationDesc:
    """An S3 event notification that invokes a function (directly or through the CDK's custom resource)."""

    bucket: str  # logical id
    function: str  # logical id
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class AlertDesc:
    """Where a failure handler may send alerts: a resource its environment or policy names."""

    kind: str  # "sns" | "sqs" | "events" | "ses"
    logical_id: str
    function: str  # the failure handler's logical id


@dataclass(frozen=True)
class Pipeline:
    mapping: MappingDesc
    stream: StreamDesc | None
    consumer: FunctionDesc
    notifications: tuple[NotificationDesc, ...] = ()  # on the S3 destination bucket
    failure_handlers: tuple[FunctionDesc, ...] = ()  # the functions those notifications invoke
    alerts: tuple[AlertDesc, ...] = ()


@dataclass(frozen=True)
class StackDescription:
    stack_name: str
    pipelines: tuple[Pipeline, ...]
    streams: tuple[StreamDesc, ...] = ()
    functions: tuple[FunctionDesc, ...] = ()
    notes: tuple[str, ...] = ()  # what describe could not resolve, in plain words

    def pipeline(self, *, mapping: str | None = None, table: str | None = None) -> Pipeline:
        """The one pipeline matching the mapping and/or stream logical id; PipelineLookupError lists them."""
        raise NotImplementedError("UNFINISHED: describe_template is being implemented (issue 11)")


def describe_template(template: dict[str, Any], *, stack_name: str) -> StackDescription:
    """Every stream mapping of `template` as a Pipeline; the rest of the template is not deployed."""
    raise NotImplementedError("UNFINISHED: describe_template is being implemented (issue 11)")


__all__ = ["AlertDesc", "DestinationDesc", "FunctionDesc", "MappingDesc", "NotificationDesc", "Pipeline",
           "PipelineLookupError", "StackDescription", "StreamDesc", "describe_template"]
