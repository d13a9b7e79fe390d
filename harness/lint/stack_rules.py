"""Static lint: what a stack's pipelines, as the template writes them, will do when a record fails.

Each rule reads one pipeline (its mapping settings, destination, consumer role and code) and
says what goes wrong in plain words with the spec section that says so. A setting the template
leaves unresolved (kept as an intrinsic) never triggers a rule: lint warns on what it can read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from harness.deploy.iam_reading import literal_resource_matches, role_statements
from harness.deploy.stack_model import PipelineDesc, StackDescription
from harness.deploy.template_index import TemplateIndex
from harness.lint.code_scan import Mention, mentions_in, partial_batch_mentions
from harness.lint.finding import (
    FIFO_DESTINATION,
    IGNORED_BATCH_ITEM_FAILURES,
    NO_DESTINATION,
    PARTIAL_WITHOUT_BISECT,
    S3_WITHOUT_RESOURCE_ACCOUNT,
    UNBOUNDED_RETRIES,
    Finding,
    finding,
)

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
_UNNAMED_BUCKET = "bucket-named-at-deploy"  # stands for a template bucket whose name CloudFormation picks


def lint_synth(synth: Any, desc: StackDescription) -> list[Finding]:
    """lint_stack over a synthesized stack (its template, and code folders inside its assembly)."""
    return lint_stack(desc, synth.template, code_dirs=desc.function_code_dirs(synth.assembly_dir))


def lint_stack(desc: StackDescription, template: dict[str, Any], *,
               code_dirs: Mapping[str, Path | str] | None = None) -> list[Finding]:
    """Every finding for every pipeline of `desc`, pipeline by pipeline, in rule order.

    `template` is the one `desc` was read from (for the consumer's policies and inline code);
    `code_dirs` maps a function's logical id to its code folder, for the look at the consumer's
    code (rule ignored-batch-item-failures); a consumer with neither a folder nor inline code is
    not checked by that rule. A folder that does not exist is an error naming the function.
    """
    ix = TemplateIndex(template)
    context = _Context(ix=ix, code_dirs=dict(code_dirs or {}))
    findings: list[Finding] = []
    for pipeline in desc.pipelines:
        for rule in _RULES:
            findings.extend(rule(pipeline, context))
    return findings


class _Context:
    def __init__(self, ix: TemplateIndex, code_dirs: dict[str, Path | str]) -> None:
        self.ix = ix
        self.code_dirs = code_dirs


def report_batch_item_failures(settings: Mapping[str, Any]) -> bool:
    types = settings.get("FunctionResponseTypes") or []
    return isinstance(types, list) and REPORT_BATCH_ITEM_FAILURES in types


def _unbounded_retries(p: PipelineDesc, _: _Context) -> list[Finding]:
    s = p.mapping.settings
    if s.get("MaximumRetryAttempts") != -1 or s.get("MaximumRecordAgeInSeconds") != -1:
        return []
    kind = p.stream.kind if p.stream else p.mapping.source_kind
    if kind == "kinesis":
        hours = p.stream.retention_hours if p.stream else None
        held = (f"this stream keeps records {hours} hours" if isinstance(hours, int)
                else "up to the stream's retention (24 h by default, up to 365 days)")
    elif kind == "dynamodb":
        held = "DynamoDB Streams keep records 24 hours"
    else:
        held = "until the record leaves the stream"
    return [finding(UNBOUNDED_RETRIES, p.mapping.logical_id,
                    "MaximumRetryAttempts is -1 and MaximumRecordAgeInSeconds is -1 (the defaults): a failing batch is "
                    f"retried until its records expire ({held}); set a retry count or a maximum record age")]


def _no_destination(p: PipelineDesc, _: _Context) -> list[Finding]:
    if p.mapping.destination is not None:
        return []
    return [finding(NO_DESTINATION, p.mapping.logical_id,
                    "the mapping has no DestinationConfig.OnFailure destination (an S3 bucket, SQS queue or SNS topic)")]


def _s3_without_resource_account(p: PipelineDesc, c: _Context) -> list[Finding]:
    d = p.mapping.destination
    if d is None or d.kind != "s3" or p.consumer.role is None:
        return []
    object_arn = _object_arn(c.ix, d.logical_id, d.arn)
    unguarded = []
    for statement in role_statements(c.ix, p.consumer.role):
        if not statement.allows("s3:PutObject"):
            continue
        if not any(_covers(c.ix, r, d.logical_id, object_arn) for r in statement.resources):
            continue
        if "s3:resourceaccount" not in statement.condition_keys():
            unguarded.append(statement.source)
    if not unguarded:
        return []
    bucket = d.logical_id or str(d.arn)
    return [finding(S3_WITHOUT_RESOURCE_ACCOUNT, p.mapping.logical_id,
                    f"{p.consumer.logical_id}'s role ({p.consumer.role}) may s3:PutObject to {bucket} with no "
                    f"s3:ResourceAccount condition, in {', '.join(dict.fromkeys(unguarded))}; grant the write with "
                    "Condition StringEquals s3:ResourceAccount = your account id")]


def _object_arn(ix: TemplateIndex, bucket: str | None, arn: Any) -> str:
    """An ARN of a failure object in the destination bucket, for matching literal Resource patterns."""
    if isinstance(arn, str) and arn.startswith("arn:"):
        return arn.rstrip("/") + "/aws/lambda/object"
    name = None
    if bucket is not None:
        name, problem = ix.resolve(ix.props(bucket).get("BucketName"))
        name = name if problem is None and isinstance(name, str) else None
    return f"arn:aws:s3:::{name or _UNNAMED_BUCKET}/aws/lambda/object"


def _covers(ix: TemplateIndex, resource: Any, bucket: str | None, object_arn: str) -> bool:
    if isinstance(resource, str):
        return literal_resource_matches(resource, object_arn)
    return bucket is not None and bucket in ix.mentions(resource)


def _fifo_destination(p: PipelineDesc, _: _Context) -> list[Finding]:
    d = p.mapping.destination
    if d is None or not d.fifo or d.kind not in ("sqs", "sns"):
        return []
    what = "FIFO SQS queue" if d.kind == "sqs" else "FIFO SNS topic"
    return [finding(FIFO_DESTINATION, p.mapping.logical_id,
                    f"the on-failure destination {d.logical_id or d.arn} is a {what}; only standard queues and "
                    "topics receive stream failure records")]


def _ignored_batch_item_failures(p: PipelineDesc, c: _Context) -> list[Finding]:
    if report_batch_item_failures(p.mapping.settings):
        return []
    mentions = _consumer_mentions(p.consumer.logical_id, c)
    if not mentions:
        return []
    shown = ", ".join(str(m) for m in mentions[:3]) + (f" and {len(mentions) - 3} more" if len(mentions) > 3 else "")
    return [finding(IGNORED_BATCH_ITEM_FAILURES, p.mapping.logical_id,
                    f"{p.consumer.logical_id}'s code mentions partial batch responses ({shown}), so it may return "
                    "batchItemFailures, but the mapping's FunctionResponseTypes lacks ReportBatchItemFailures")]


def _consumer_mentions(function: str, c: _Context) -> list[Mention]:
    found: list[Mention] = []
    inline = ((c.ix.props(function).get("Code") or {}) if function in c.ix.resources else {}).get("ZipFile")
    if isinstance(inline, str):
        found.extend(mentions_in(inline, "<inline Code.ZipFile>"))
    folder = c.code_dirs.get(function)
    if folder is not None:
        try:
            found.extend(partial_batch_mentions(folder))
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"code_dirs[{function!r}]: {exc}") from None
    return found


def _partial_without_bisect(p: PipelineDesc, _: _Context) -> list[Finding]:
    s = p.mapping.settings
    batch = s.get("BatchSize")
    if not report_batch_item_failures(s) or s.get("BisectBatchOnFunctionError") is not False:
        return []
    if isinstance(batch, bool) or not isinstance(batch, int) or batch <= 1:
        return []
    return [finding(PARTIAL_WITHOUT_BISECT, p.mapping.logical_id,
                    f"ReportBatchItemFailures is on, BisectBatchOnFunctionError is off and BatchSize is {batch}: a "
                    "failed record's retries carry every record after it; turn on BisectBatchOnFunctionError")]


_RULES: tuple[Callable[[PipelineDesc, _Context], list[Finding]], ...] = (
    _unbounded_retries,
    _no_destination,
    _s3_without_resource_account,
    _fifo_destination,
    _ignored_batch_item_failures,
    _partial_without_bisect,
)
