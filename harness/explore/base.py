"""What every combination starts from: the scenario's items, poison, consumer behaviour and faults,
the stack's pipeline, and its mapping as the stack deploys it.

Why from the template and not a deploy: explore must answer in seconds, and the template is the
single description of the stack (ARCHITECTURE.md); the mapping's settings are read with the API's
defaults filled, exactly as `shardproof describe` shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.deploy.stack_model import PipelineDesc
from harness.deploy.template_reader import describe_template
from harness.explore.grid import PARAMETERS, RANGES
from harness.explore.stream import build_stream
from harness.scenarios.model import Scenario
from harness.streams import StreamRecord


class BaseError(ValueError):
    """The stack or scenario cannot be explored; the message names the mapping, setting or item."""


@dataclass(frozen=True)
class Base:
    scenario: Scenario
    pipeline: PipelineDesc
    settings: dict[str, Any]  # every grid PARAMETER as deployed; DestinationConfig "deployed" or "none"
    stream: list[StreamRecord]  # the scenario's items as stream records, position = item index
    kind: str  # "dynamodb" | "kinesis"
    filter_criteria: Any = None  # the deployed FilterCriteria (not varied: it is the stack's own logic)
    starting_position: str = "TRIM_HORIZON"
    retention_s: float = 86400.0  # how long the stream keeps a record (spec 8; Kinesis up to 365 days, spec 10)

    @property
    def has_destination(self) -> bool:
        return self.pipeline.mapping.destination is not None


def deployed_settings(pipeline: PipelineDesc) -> dict[str, Any]:
    """The grid parameters as the stack deploys them; BaseError when the template leaves one
    unreadable (an intrinsic it cannot resolve) or out of AWS's range."""
    raw = pipeline.mapping.settings
    out: dict[str, Any] = {}
    for key in PARAMETERS:
        if key == "DestinationConfig":
            out[key] = "deployed" if pipeline.mapping.destination is not None else "none"
            continue
        value = raw.get(key)
        if key == "FunctionResponseTypes":
            value = list(value or [])
        bad = RANGES[key](value) if isinstance(value, (int, list)) else "cannot be read from the template"
        if bad:
            raise BaseError(f"mapping {pipeline.mapping.logical_id}: {key} {value!r} {bad}")
        out[key] = value
    return out


def _shard_count(template: dict[str, Any], pipeline: PipelineDesc) -> int:
    """A Kinesis stream's ShardCount from the template (1 when absent or not a literal number:
    the embedded backend deploys one shard then too, and the deploy notes say so)."""
    if pipeline.stream is None or pipeline.stream.kind != "kinesis":
        return 1
    props = ((template.get("Resources") or {}).get(pipeline.stream.logical_id) or {}).get("Properties") or {}
    count = props.get("ShardCount", 1)
    try:
        return max(1, int(count))
    except (TypeError, ValueError):
        return 1


def load_base(scenario: Scenario, source: Any) -> Base:
    """Synthesize the stack (with the scenario's CDK context) and build the base; SourceError,
    PipelineLookupError, ScenarioError or BaseError name what is wrong."""
    context = dict(scenario.context)
    if context and not getattr(source, "accepts_context", True):
        raise BaseError(f"{scenario.where()}: sets CDK context {sorted(context)}, but the stack source "
                        f"({source.label()}) is not a CDK app")
    synth = source.synthesize(context or None)
    desc = describe_template(synth.template, stack_name=synth.stack_name)
    pipeline = desc.pipeline(mapping=scenario.mapping, table=scenario.table)
    return make_base(scenario, pipeline, shard_count=_shard_count(synth.template, pipeline))


def make_base(scenario: Scenario, pipeline: PipelineDesc, *, shard_count: int = 1) -> Base:
    """The base from an already described pipeline (tests build pipelines directly)."""
    if pipeline.stream is None:
        raise BaseError(f"{scenario.where()}: mapping {pipeline.mapping.logical_id} reads a stream that is not in "
                        "the template, so its key schema and shards are unknown")
    stream = build_stream(scenario.items, kind=pipeline.stream.kind, key_schema=pipeline.stream.key_schema,
                          view_type=pipeline.stream.stream_view_type, shard_count=shard_count,
                          where=scenario.where())
    raw = pipeline.mapping.settings
    hours = pipeline.stream.retention_hours
    retention_s = float(hours) * 3600 if isinstance(hours, (int, float)) and not isinstance(hours, bool) and hours > 0 \
        else 86400.0  # an unreadable RetentionPeriodHours: the 24 h default, as the deploy reads it
    return Base(scenario=scenario, pipeline=pipeline, settings=deployed_settings(pipeline), stream=stream,
                kind=pipeline.stream.kind, filter_criteria=raw.get("FilterCriteria"),
                starting_position=raw.get("StartingPosition") or "TRIM_HORIZON", retention_s=retention_s)
