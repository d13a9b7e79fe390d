"""Reads a template into a StackDescription (stack_model.py): every stream pipeline it holds.

How each part is read lives in its own module: `template_index` (references, parameter
defaults), `stream_mappings` (streams, functions, mappings, destinations), `failure_handlers`
(S3 notifications, alert channels) and `iam_reading` (what a role's policies allow). This module
only joins them, pipeline by pipeline, and notes what a template still holds untranslated.
"""

from __future__ import annotations

from typing import Any

from harness.deploy.failure_handlers import alert_channels, bucket_notifications
from harness.deploy.stack_model import NotificationDesc, PipelineDesc, StackDescription
from harness.deploy.stream_mappings import MAPPING, read_functions, read_mapping, read_streams
from harness.deploy.template_index import TemplateIndex

def describe_template(template: dict[str, Any], *, stack_name: str) -> StackDescription:
    """Every stream mapping of `template` as a PipelineDesc; the rest of the template is not deployed.

    Raises ValueError naming the fault when `template` has no readable Resources section.
    """
    if not isinstance(template, dict):
        raise ValueError(f"stack {stack_name}: a template must be an object, got {type(template).__name__}")
    try:
        ix = TemplateIndex(template)
    except ValueError as exc:
        raise ValueError(f"stack {stack_name}: {exc}") from None
    _note_untranslated(ix, template)
    streams = read_streams(ix)
    functions = read_functions(ix)
    pipelines: list[PipelineDesc] = []
    for lid in ix.of_type(MAPPING):
        if not ix.deployed(lid):
            continue
        read = read_mapping(ix, lid, streams, functions)
        if read is None:
            continue
        mapping, stream = read
        notifications: tuple[NotificationDesc, ...] = ()
        if mapping.destination is not None and mapping.destination.kind == "s3" and mapping.destination.logical_id:
            notifications = tuple(bucket_notifications(ix, mapping.destination.logical_id))
        handler_ids = list(dict.fromkeys(n.function for n in notifications if n.admits_failure_records))
        handlers = tuple(functions[h] for h in handler_ids if h in functions)
        alerts = tuple(a for h in handlers for a in alert_channels(ix, h))
        pipelines.append(PipelineDesc(mapping=mapping, stream=stream, consumer=functions[mapping.function],
                                      notifications=notifications, failure_handlers=handlers, alerts=alerts))
    return StackDescription(stack_name=stack_name, pipelines=tuple(pipelines), streams=tuple(streams.values()),
                            functions=tuple(functions.values()), notes=tuple(ix.notes))


def _note_untranslated(ix: TemplateIndex, template: dict[str, Any]) -> None:
    transform = template.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    serverless = [lid for lid, r in ix.resources.items() if str(r["Type"]).startswith("AWS::Serverless::")]
    if "AWS::Serverless-2016-10-31" in transforms or serverless:
        ix.note("the template still has the SAM transform (AWS::Serverless-2016-10-31"
                + (f": {', '.join(serverless)}" if serverless else "")
                + "); describe reads the translated CloudFormation, so SAM resources are not described")


__all__ = ["describe_template"]
