"""A StackDescription as plain text (a terminal, a report) and as JSON (scripts).

The text reads the way the data flows: stream, mapping settings, consumer, on-failure
destination, the notifications that feed failure handlers and the alerts they can send; the
notes describe could not resolve come last, so nothing it could not read goes unsaid.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.deploy.pipelines import DestinationDesc, FunctionDesc, Pipeline, StackDescription, StreamDesc
from harness.deploy.template_index import show

_KIND_NAMES = {"s3": "S3 bucket", "sqs": "SQS queue", "sns": "SNS topic", "events": "EventBridge bus",
               "ses": "SES identity", "kafka": "Kafka topic"}


def describe_text(desc: StackDescription) -> str:
    """Plain text, one block per pipeline, then the notes."""
    count = len(desc.pipelines)
    lines = [f"Stack {desc.stack_name}: {count} stream pipeline{'' if count == 1 else 's'}"]
    for pipeline in desc.pipelines:
        lines.append("")
        lines.extend(_pipeline_lines(pipeline))
    unread = [s for s in desc.streams if s.logical_id not in {p.mapping.source for p in desc.pipelines}]
    if unread:
        lines.append("")
        lines.append("Streams no described pipeline reads: " + ", ".join(_stream_text(s) for s in unread))
    if desc.notes:
        lines.append("")
        lines.append("Notes")
        lines.extend(f"  - {note}" for note in desc.notes)
    return "\n".join(lines) + "\n"


def _pipeline_lines(p: Pipeline) -> list[str]:
    m = p.mapping
    lines = [f"Pipeline {p.label}"]
    if p.stream is not None:
        lines.append(f"  stream        {_stream_text(p.stream)}")
    else:
        kind = {"dynamodb": "DynamoDB stream", "kinesis": "Kinesis stream"}.get(m.source_kind or "", "event source")
        lines.append(f"  stream        {kind} from outside the template: {show(m.event_source_arn)}")
    lines.append("  mapping       " + m.logical_id + (f" (invokes alias/version {m.qualifier})" if m.qualifier else ""))
    width = max((len(k) for k in m.settings), default=0)
    for key, value in m.settings.items():
        lines.append(f"    {key:<{width}}  {_value(value)}")
    lines.append(f"  consumer      {_function_text(p.consumer)}")
    lines.append(f"  on failure    {_destination_text(m.destination)}")
    if m.destination is not None and m.destination.kind == "s3" and m.destination.logical_id:
        if not p.notifications:
            lines.append(f"  notifications none on {m.destination.logical_id}: no function is told of failure records")
        for n in p.notifications:
            filters = ", ".join(f"{k} {v!r}" for k, v in (("prefix", n.prefix), ("suffix", n.suffix)) if v) or "no filter"
            verdict = "feeds failure handler" if n.admits_failure_records else "does not admit failure records"
            lines.append(f"  notification  {n.bucket} {'/'.join(n.events)} ({filters}) -> {n.function}: {verdict}")
    for handler in p.failure_handlers:
        lines.append(f"  failure handler {_function_text(handler)}")
        alerts = [a for a in p.alerts if a.function == handler.logical_id]
        if not alerts:
            lines.append("    alerts      none found (no SNS/SQS/EventBridge in its environment, no SES or PutEvents grant)")
        for a in alerts:
            lines.append(f"    alert       {_KIND_NAMES.get(a.kind, a.kind)} {a.logical_id} ({a.via})")
    return lines


def _stream_text(s: StreamDesc) -> str:
    if s.kind == "dynamodb":
        keys = f", key {' + '.join(s.key_schema)}" if s.key_schema else ""
        table = "global table" if s.resource_type.endswith("GlobalTable") else "table"
        replicas = f", replicas {', '.join(show(r) for r in s.replicas)}" if s.replicas else ""
        return f"{s.logical_id}: DynamoDB {table} stream ({s.stream_view_type}{keys}{replicas})"
    via = f" through consumer {s.consumer}" if s.consumer else ""
    return f"{s.logical_id}: Kinesis data stream{via} (retention {show(s.retention_hours)} h)"


def _function_text(f: FunctionDesc) -> str:
    parts = [f"runtime {show(f.runtime)}" if f.runtime is not None else "no runtime (container image?)",
             f"handler {show(f.handler)}" if f.handler is not None else "no handler",
             f"timeout {_number(f.timeout_s)} s", f"memory {show(f.memory_mb)} MB"]
    if f.layers:
        parts.append(f"layers {', '.join(f.layers)}")
    return f"{f.logical_id}: " + ", ".join(parts)


def _destination_text(d: DestinationDesc | None) -> str:
    if d is None:
        return "none: failed batches are dropped (spec 1, 3)"
    name = _KIND_NAMES.get(d.kind, d.kind)
    where = d.logical_id if d.logical_id else f"{show(d.arn)} (outside the template)"
    return f"{name} {where}" + (" (FIFO)" if d.fifo else "")


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return show(value)


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return show(value) if value else ("[]" if isinstance(value, list) else "{}")
    return str(value)


def describe_json(desc: StackDescription) -> dict[str, Any]:
    """The description as a JSON-ready dict: the dataclasses' fields, tuples as lists, plus each
    pipeline's `label`."""
    out = _plain(dataclasses.asdict(desc))
    for data, pipeline in zip(out["pipelines"], desc.pipelines):
        data["label"] = pipeline.label
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
