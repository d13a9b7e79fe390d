"""The pipeline a scenario exercises, as deployed: names and ARNs instead of logical ids.

`harness.deploy.template_reader` reads the pipeline from the template (before anything exists); after the
deploy, each logical id has a physical resource. The runner writes into the stream, the judge reads
the destination, the failure handlers' deliveries and the alert channels through this, and never
through a stack's outputs, so any team's stack works without naming its outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.deploy.stack_model import PipelineDesc


class TargetError(RuntimeError):
    """The deployed stack lacks what the pipeline description says it holds; names the logical id."""


@dataclass(frozen=True)
class Target:
    pipeline: PipelineDesc
    kind: str  # stream kind: "dynamodb" | "kinesis"
    stream_name: str  # the table name (DynamoDB) or the stream name (Kinesis)
    stream_arn: str  # the stream the items go to and are read back from (a table's stream, a Kinesis stream)
    mapping_uuid: str
    consumer: str  # function name the mapping invokes
    destination_arn: str | None  # as deployed (the mapping's DestinationConfig)
    failure_handlers: tuple[str, ...] = ()  # function names notified of failure objects
    alert_topics: tuple[str, ...] = ()  # SNS topic ARNs the failure handlers may alert through
    alert_queues: tuple[str, ...] = ()  # SQS queue URLs they may alert through
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def destination_kind(self) -> str | None:
        if not self.destination_arn:
            return None
        return self.destination_arn.split(":")[2]

    @property
    def bucket(self) -> str | None:
        """The S3 destination's bucket name (`arn:aws:s3:::<bucket>`)."""
        return self.destination_arn.split(":", 5)[5] if self.destination_kind == "s3" else None


def resolve_target(pipeline: PipelineDesc, stack: Any, esm: Any) -> Target:
    """Map the pipeline's logical ids to what `stack` (a DeployedStack) created; `esm` lists the mapping."""
    def resource(lid: str, what: str) -> Any:
        try:
            return stack.resources[lid]
        except KeyError:
            raise TargetError(f"{what} {lid} was not created by the deploy (skipped or conditional?); "
                              f"created: {', '.join(sorted(stack.resources))}") from None

    mapping_lid = pipeline.mapping.logical_id
    mapping_uuid = resource(mapping_lid, "event source mapping").physical_id
    deployed = next((m for m in esm.list_event_source_mappings() if m.get("UUID") == mapping_uuid), None)
    if deployed is None:
        raise TargetError(f"event source mapping {mapping_lid} ({mapping_uuid}) is not registered with the ESM")
    stream = pipeline.stream
    if stream is None:
        raise TargetError(f"event source mapping {mapping_lid} reads {deployed.get('EventSourceArn')}, which is not a "
                          "stream of this template: the harness can only write into a stream it deployed")
    created = resource(stream.logical_id, "stream source")
    stream_name = created.physical_id  # a table's Ref, a Kinesis stream's Ref: its name
    # What the scenario writes into and reads back: the table's stream, or the Kinesis stream itself
    # (a mapping on a stream consumer reads the consumer's stream, spec 10).
    stream_arn = created.attributes.get("StreamArn" if stream.kind == "dynamodb" else "Arn") or deployed["EventSourceArn"]
    consumer = stack.functions.get(pipeline.consumer.logical_id)
    if consumer is None:
        raise TargetError(f"consumer function {pipeline.consumer.logical_id} is not registered with the runtime")
    destination = ((deployed.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination") or None
    handlers = tuple(stack.functions[f.logical_id] for f in pipeline.failure_handlers if f.logical_id in stack.functions)
    topics, queues = [], []
    for alert in pipeline.alerts:
        res = stack.resources.get(alert.logical_id)
        if res is None:
            continue
        if alert.kind == "sns":
            topics.append(res.physical_id)  # a topic's Ref is its ARN
        elif alert.kind == "sqs":
            queues.append(res.physical_id)  # a queue's Ref is its URL
    return Target(pipeline=pipeline, kind=stream.kind, stream_name=stream_name,
                  stream_arn=stream_arn, mapping_uuid=mapping_uuid, consumer=consumer,
                  destination_arn=destination, failure_handlers=handlers, alert_topics=tuple(dict.fromkeys(topics)),
                  alert_queues=tuple(dict.fromkeys(queues)))
