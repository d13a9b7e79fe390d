"""The two scenarios `shardproof init` writes for a stack it has never seen: good items through every
pipeline, then one failing item among good ones.

They must pass on the stack as it stands, so the items are shaped by what the stack declares and
what its consumer reads: a table's key attributes with their declared types, a Kinesis record's
partition key and JSON data, and the field names the consumer's own code looks up (a field read as
`amount` or `count` gets a positive number, any other a string). The failing item is what a
consumer refuses without being told: a Kinesis record whose data is not JSON, a table item with
nothing but its key. Where the mapping's settings lose data (no on-failure destination, good items
discarded with the bad one, a blocked shard), the scenario's description says so: a starter that
hides data loss would teach the wrong lesson.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

GOOD_FILE = "01_good_items.yaml"
FAILING_FILE = "02_one_item_fails.yaml"
GOOD_COUNT = 3
FAILING_COUNT = 4
FAILING_INDEX = 2  # not the first: bisect (or a partial response) has good items on both sides to keep

# Keys of the event envelopes and DynamoDB's attribute-value types, which are not the item's fields.
_ENVELOPE_KEYS = frozenset({
    "Records", "records", "dynamodb", "NewImage", "OldImage", "Keys", "eventName", "eventID", "eventSource",
    "eventSourceARN", "eventVersion", "awsRegion", "kinesis", "data", "partitionKey", "sequenceNumber",
    "approximateArrivalTimestamp", "kinesisSchemaVersion", "SequenceNumber", "SizeBytes", "StreamViewType",
    "ApproximateCreationDateTime", "batchItemFailures", "itemIdentifier", "body", "Body", "S", "N", "B", "M", "L",
    "BOOL", "NULL", "SS", "NS", "BS", "statusCode", "headers", "Message", "detail", "detail-type", "source",
})
_FIELD_RE = re.compile(r"""(?:\.get\(\s*|\[\s*)["']([A-Za-z_][A-Za-z0-9_]{0,40})["']""")
_NUMERIC_NAME = re.compile(r"amount|price|total|count|qty|quantity|number|num$|size|score|value|balance|cost|"
                           r"weight|units|version|seq|age|level|rank", re.IGNORECASE)
_CODE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".mts")
_POWERTOOLS_PARTIAL_OR_RAISE = ("process_partial_response", "BatchProcessor", "processPartialResponse")
MAX_FIELDS = 8


@dataclass(frozen=True)
class StarterFile:
    name: str
    text: str


def consumer_fields(code_dir: Path | None, handler: str | None = None) -> list[str]:
    """The field names the consumer's handler module looks up (`x.get("f")`, `x["f"]`), envelope keys left out.

    Only the handler's own module is read (`processor.handle` -> processor.py, .js, .mjs or .ts): a code
    folder often holds other functions too, and a bundle holds its dependencies.
    """
    if code_dir is None or not code_dir.is_dir() or not handler or "." not in handler:
        return []
    module = handler.rsplit(".", 1)[0].replace(".", "/")
    seen: dict[str, None] = {}
    for suffix in _CODE_SUFFIXES:
        path = code_dir / f"{module}{suffix}"
        if not path.is_file() or path.stat().st_size > 500_000:
            continue
        for name in _FIELD_RE.findall(path.read_text(encoding="utf-8", errors="replace")):
            if name not in _ENVELOPE_KEYS and not name.isupper():
                seen.setdefault(name, None)
    return list(seen)[:MAX_FIELDS]


def _handler_kind(pipeline: Any, code_dir: Path | None) -> str | None:
    """partial-or-raise for Powertools' batch processor (it raises when every record failed); else the default."""
    if "ReportBatchItemFailures" not in (pipeline.mapping.settings.get("FunctionResponseTypes") or []):
        return None
    if code_dir is None or not code_dir.is_dir():
        return None
    from harness.lint.code_scan import partial_batch_mentions

    markers = {m.marker for m in partial_batch_mentions(code_dir)}
    return "partial-or-raise" if markers & set(_POWERTOOLS_PARTIAL_OR_RAISE) else None


def _starter_fault(pipeline: Any) -> dict[str, Any]:
    """How the consumer fails on the chosen item: a mapping that reads partial batch responses gets
    the item reported in batchItemFailures (what such a consumer does with a record it refuses);
    any other, an unhandled error for every batch that holds it."""
    partial = "ReportBatchItemFailures" in (pipeline.mapping.settings.get("FunctionResponseTypes") or [])
    return {"fault": "partial" if partial else "error", "items": [FAILING_INDEX]}


def _key_types(template: Mapping[str, Any], table: str) -> dict[str, str]:
    resource = (template.get("Resources") or {}).get(table) or {}
    definitions = (resource.get("Properties") or {}).get("AttributeDefinitions") or []
    return {d.get("AttributeName"): d.get("AttributeType", "S") for d in definitions if isinstance(d, dict)}


def _value(name: str, n: int) -> Any:
    """A positive number for a field whose name says it counts or measures, else a string."""
    return n if _NUMERIC_NAME.search(name) else f"shardproof-{n}"


def _good_item(pipeline: Any, template: Mapping[str, Any], fields: list[str], n: int) -> dict[str, Any]:
    data = {"id": f"shardproof-{n}"}
    data.update({f: _value(f, n) for f in fields if f != "id"})
    if pipeline.stream.kind == "kinesis":
        return {"partitionKey": f"shardproof-{n}", "data": data}
    types = _key_types(template, pipeline.stream.logical_id)
    item = {key: (n if types.get(key) == "N" else f"shardproof-{n}") for key in pipeline.stream.key_schema}
    for name, value in data.items():
        item.setdefault(name, value)
    return item


def _slug(logical_id: str) -> str:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", logical_id)
    return re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")[:60] or "pipeline"


def data_loss(pipeline: Any) -> list[str]:
    """What this mapping's settings lose or hold back when one item fails, in plain words."""
    s = pipeline.mapping.settings
    said: list[str] = []
    retries = s.get("MaximumRetryAttempts", -1)
    age = s.get("MaximumRecordAgeInSeconds", -1)
    partial = "ReportBatchItemFailures" in (s.get("FunctionResponseTypes") or [])
    if pipeline.mapping.destination is None:
        said.append("this mapping has no on-failure destination: the failing item is discarded once its retries "
                    "end, and nothing keeps it (data loss)")
        if not partial and not s.get("BisectBatchOnFunctionError"):
            said.append("without bisect or partial batch responses the good items of its batch are discarded with it")
    elif not partial and not s.get("BisectBatchOnFunctionError"):
        said.append("without bisect or partial batch responses the good items of its batch go to the failure "
                    "record with it (they need a replay)")
    if partial:
        said.append("with partial batch responses the records after the failing one are retried with it and "
                    "go to its failure record with it when its retries end (spec 0.3, 2.4; they need a replay)")
    if retries in (-1, None) and age in (-1, None):
        said.append("retries are unbounded and records never age out: the shard is blocked until the failing "
                    "record expires from the stream (the scenario runs on a virtual clock)")
    elif retries in (-1, None):
        said.append(f"retries are unbounded: the shard is blocked until the failing record is {age} s old")
    return said


def starter_files(description: Any, template: Mapping[str, Any], code_dirs: Mapping[str, Path],
                  source_label: str) -> list[StarterFile]:
    """The two scenario files for every pipeline of `description` (code_dirs: function logical id -> folder)."""
    pipelines = [p for p in description.pipelines if p.stream is not None]
    if not pipelines:
        from harness.deploy.stack_model import PipelineLookupError

        raise PipelineLookupError(f"stack {description.stack_name} has no stream pipeline: no event source mapping "
                                  "of its template reads a DynamoDB table's stream or a Kinesis stream")
    good: list[str] = []
    failing: list[str] = []
    for p in pipelines:
        code = code_dirs.get(p.consumer.logical_id)
        fields = consumer_fields(code, p.consumer.handler)
        slug = _slug(p.mapping.logical_id)
        shape = ("partition keys and JSON data" if p.stream.kind == "kinesis"
                 else f"the table's key ({', '.join(p.stream.key_schema)})")
        guessed = f"; fields {', '.join(fields)} as the consumer's code reads them" if fields else ""
        if p.mapping.settings.get("FilterCriteria"):
            guessed += ("; the mapping filters events (FilterCriteria), so an item that matches none of its "
                        "patterns is filtered out, not delivered: shape the items to match them")
        items = [_good_item(p, template, fields, n) for n in range(1, GOOD_COUNT + 1)]
        good.append(_scenario_text(
            name=f"good-items-{slug}", title=f"Good items flow through {p.label}",
            description=f"{GOOD_COUNT} good items, shaped by {shape}{guessed}. Edit them to your domain.",
            pipeline=p, items=items, poison=None, handler=None,
            # Under unbounded retries a consumer that refuses these items (they are guesses) would
            # hold the shard for a day of real time; on a virtual clock the verdict says so at once.
            clock="virtual" if p.mapping.settings.get("MaximumRetryAttempts", -1) in (-1, None) else None,
            notes=[]))
        items = [_good_item(p, template, fields, n) for n in range(1, FAILING_COUNT + 1)]
        losses = data_loss(p)
        settings = p.mapping.settings
        unbounded = settings.get("MaximumRetryAttempts", -1) in (-1, None)
        failing.append(_scenario_text(
            name=f"one-item-fails-{slug}", title=f"One failing item among good ones on {p.label}",
            description=(f"An injected fault fails item {FAILING_INDEX} in every invocation that holds it, without "
                         f"touching the consumer's code; the good items around it must be processed and the failing "
                         f"one kept or reported as AWS does. "
                         + (" ".join(f"Data loss: {x}." for x in losses) if losses else "")).strip(),
            pipeline=p, items=items, poison=None, handler=_handler_kind(p, code),
            faults=[_starter_fault(p)],
            clock="virtual" if unbounded else None, notes=losses))
    header = f"# Written by `shardproof init` from {source_label}. Edit freely: `shardproof init` never overwrites it.\n"
    failing_header = header + (
        "# The failing item: `faults:` makes the consumer fail on it without touching its code (docs/faults.md).\n"
        "# An item your consumer refuses on its own data can be named with `poison:` instead.\n")
    return [StarterFile(GOOD_FILE, header + "\n".join(good)), StarterFile(FAILING_FILE, failing_header + "\n".join(failing))]


def _scenario_text(*, name: str, title: str, description: str, pipeline: Any, items: list[dict[str, Any]],
                   poison: list[int] | None, handler: str | None, clock: str | None, notes: list[str],
                   faults: list[dict[str, Any]] | None = None) -> str:
    """One scenario as a YAML list entry; values in JSON flow style, which YAML reads as is."""
    lines = [f"- name: {name}", f"  title: {json.dumps(title)}", f"  description: {json.dumps(description)}"]
    if pipeline.mapping.source:
        lines.append(f"  table: {pipeline.mapping.source}")
    lines.append(f"  mapping: {pipeline.mapping.logical_id}")
    if clock:
        lines.append(f"  clock: {clock}")
    lines.append("  items:")
    lines.extend(f"    - {json.dumps(item)}" for item in items)
    if poison is not None:
        lines.append(f"  poison: {json.dumps(poison)}")
    if faults:
        lines.append("  faults:")
        lines.extend(f"    - {json.dumps(f)}" for f in faults)
    if handler:
        lines.append(f"  handler: {handler}  # Powertools' batch processor raises when every record of a batch failed")
    for note in notes:
        lines.append(f"  # data loss: {note}")
    return "\n".join(lines) + "\n"


__all__ = ["FAILING_FILE", "GOOD_FILE", "StarterFile", "consumer_fields", "data_loss", "starter_files"]
