"""Validation of an ESM on-failure record (spec §3.2, §3.3, §3.5, §4, §10): the one set of rules,
for both stream kinds: a DynamoDB stream's record (`DDBStreamBatchInfo`, `dynamodb.SequenceNumber`
in the payload) and a Kinesis stream's (`KinesisBatchInfo`, `kinesis.sequenceNumber`; arrival
times with milliseconds; `streamArn` a Kinesis stream ARN).

Standard library only, on purpose: this module is shipped inside the failure-handler Lambda
(infra/bundle.py copies it in as `failure_record.py`), and the harness's typed model
(`harness.failures.model`), the bucket listing and replay use it too, so the Lambda and the
CLI can never disagree on what a valid failure record is.

Pure functions, no I/O, so a test or scenario can check an object without a backend.
`problems` make a record malformed (it is not what an ESM writes, so it must not be
archived as a genuine failure); `notes` are deviations worth surfacing in the alert that do
not change the verdict (e.g. a `payload` object instead of AWS's JSON string).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

CONDITIONS = frozenset({"RetryAttemptsExhausted", "RecordAgeExceeded"})
ASYNC_CONDITIONS = frozenset({"RetriesExhausted", "EventAgeExceeded"})
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>, optional .json (spec §4 [GAP]).
ESM_KEY = re.compile(
    rf"^aws/lambda/(?P<esm>{UUID})/(?P<shard>[^/]+)/(?P<y>\d{{4}})/(?P<m>\d{{2}})/(?P<d>\d{{2}})/"
    rf"(?P=y)-(?P=m)-(?P=d)T(?P<time>\d{{2}}\.\d{{2}}\.\d{{2}})-(?P<rid>{UUID})(?P<ext>\.json)?$"
)
ASYNC_KEY = re.compile(r"^aws/lambda/async/")
TIMESTAMP = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?P<frac>\.\d{1,9})?Z$")
SEQUENCE = re.compile(r"^\d{1,40}$")
STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[^/]+/stream/.+$")
KINESIS_STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[A-Za-z0-9_.-]{1,128}$")


@dataclass(frozen=True)
class SourceShape:
    """What differs between the two kinds of failure record (spec §10)."""

    name: str  # "dynamodb" | "kinesis"
    batch_info: str  # the envelope's batch-info key
    record_key: str  # the payload records' own sub-object
    seq_field: str  # its sequence-number field
    stream_arn: re.Pattern[str]
    stream_label: str
    arrival_millis: bool  # approximateArrival* carry milliseconds
    sequence: re.Pattern[str]  # a sequence number: DynamoDB's 21..40 digits, Kinesis's up to 129 (about 56)


DYNAMODB = SourceShape("dynamodb", "DDBStreamBatchInfo", "dynamodb", "SequenceNumber", STREAM_ARN,
                       "DynamoDB stream", False, SEQUENCE)
# Kinesis API: SequenceNumber matches 0|([1-9]\d{0,128}).
KINESIS = SourceShape("kinesis", "KinesisBatchInfo", "kinesis", "sequenceNumber", KINESIS_STREAM_ARN,
                      "Kinesis stream", True, re.compile(r"^\d{1,129}$"))
SHAPES = (DYNAMODB, KINESIS)


def shape_of(envelope: Any) -> SourceShape | None:
    """The kind of failure record, by its batch-info key; None when it has neither (or both)."""
    if not isinstance(envelope, dict):
        return None
    found = [s for s in SHAPES if s.batch_info in envelope]
    return found[0] if len(found) == 1 else None


def record_sequence_number(record: Any) -> str | None:
    """A payload record's sequence number, whichever kind it is (None when it has none)."""
    if isinstance(record, dict):
        for shape in SHAPES:
            inner = record.get(shape.record_key)
            if isinstance(inner, dict) and isinstance(inner.get(shape.seq_field), str):
                return inner[shape.seq_field]
    return None


@dataclass
class FailureCheck:
    """The verdict on one object: valid when `problems` is empty."""

    key: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    envelope: dict[str, Any] | None = None
    records: list[Any] | None = None

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def shape(self) -> SourceShape:
        """The record's kind; DynamoDB when the envelope does not tell (DynamoDB is the default source)."""
        return shape_of(self.envelope) or DYNAMODB

    @property
    def source(self) -> str | None:
        """"dynamodb" or "kinesis" by the batch-info key; None when it has neither or both."""
        shape = shape_of(self.envelope)
        return shape.name if shape else None

    @property
    def batch_info(self) -> dict[str, Any]:
        info = (self.envelope or {}).get(self.shape.batch_info)
        return info if isinstance(info, dict) else {}

    @property
    def request_context(self) -> dict[str, Any]:
        ctx = (self.envelope or {}).get("requestContext")
        return ctx if isinstance(ctx, dict) else {}

    @property
    def condition(self) -> str | None:
        cond = self.request_context.get("condition")
        return cond if isinstance(cond, str) else None

    @property
    def date(self) -> str | None:
        """The failure's UTC date (from the envelope timestamp), used to partition the archive."""
        ts = (self.envelope or {}).get("timestamp")
        m = TIMESTAMP.match(ts) if isinstance(ts, str) else None
        return m.group("date") if m else None


def envelope_time(ts: object) -> datetime | None:
    """The envelope timestamp as an aware UTC datetime, or None when it is not one.

    Why here: TIMESTAMP alone admits month 13 and up to 9 fraction digits; deciding "is this a
    real time" once keeps the Lambda's verdict and the store's sorting/filtering in agreement.
    """
    m = TIMESTAMP.match(ts) if isinstance(ts, str) else None
    if not m:
        return None
    micros = (m.group("frac") or ".")[1:7].ljust(6, "0")
    try:
        when = datetime.strptime(f"{m.group('date')}T{m.group('time')}", "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    return when.replace(microsecond=int(micros), tzinfo=timezone.utc)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str, out: list[str]) -> Any:
    value = obj.get(name)
    label = f"{where}.{name}" if where else name
    if name not in obj:
        out.append(f"{label} is missing")
        return None
    if kind is int:
        if not _is_int(value):
            out.append(f"{label} must be an integer (got {type(value).__name__})")
            return None
    elif not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        out.append(f"{label} must be {names} (got {type(value).__name__})")
        return None
    return value


def check_key(key: str, check: FailureCheck, *, async_layout: str = "problem") -> re.Match[str] | None:
    """Check the ESM key layout (spec §4); the async layout is a different producer.

    `async_layout="note"` accepts it with a note: replay reads what it finds, and the AWS blog
    shows that layout for streams; the failure handler keeps it a problem (not an ESM record).
    """
    if ASYNC_KEY.match(key):
        message = "key uses the async-invocation layout aws/lambda/async/..., not an ESM record (spec §4)"
        (check.notes if async_layout == "note" else check.problems).append(message)
        return None
    match = ESM_KEY.match(key)
    if not match:
        check.problems.append(
            "key does not match the ESM layout aws/lambda/<uuid>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid> (spec §4)"
        )
        return None
    if match.group("ext"):
        check.notes.append("key ends in .json, which AWS's documented layout does not (spec §4 [GAP])")
    return match


def _check_envelope(env: dict[str, Any], check: FailureCheck) -> None:
    p = check.problems
    if all(s.batch_info in env for s in SHAPES):
        p.append("both DDBStreamBatchInfo and KinesisBatchInfo: a failure record is of one stream (spec §3.2, §10)")
    ctx = env.get("requestContext")
    if "requestPayload" in env or (isinstance(ctx, dict) and isinstance(ctx.get("condition"), str)
                                      and ctx["condition"] in ASYNC_CONDITIONS):
        p.append("foreign record: an async-invocation destination record, not an ESM failure (spec §3.3)")
        return
    version = _require(env, "version", str, "", p)
    if version is not None and version != "1.0":
        p.append(f"version must be '1.0' (got {version!r})")
    ts = _require(env, "timestamp", str, "", p)
    if ts is not None:
        m = TIMESTAMP.match(ts)
        if not m:
            p.append(f"timestamp must be ISO-8601 UTC like 2019-11-14T00:13:49.717Z (got {ts!r})")
        elif envelope_time(ts) is None:
            p.append(f"timestamp {ts!r} is not a real UTC date and time")
        elif not m.group("frac"):
            check.notes.append("timestamp has no milliseconds; AWS writes them (spec §3.2)")
    ctx = _require(env, "requestContext", dict, "", p)
    if ctx is not None:
        _require(ctx, "requestId", str, "requestContext", p)
        arn = _require(ctx, "functionArn", str, "requestContext", p)
        if arn is not None and (not arn.startswith("arn:") or ":function:" not in arn):
            p.append(f"requestContext.functionArn is not a Lambda function ARN (got {arn!r})")
        cond = _require(ctx, "condition", str, "requestContext", p)
        if cond is not None and cond not in CONDITIONS:
            p.append(f"requestContext.condition must be one of {sorted(CONDITIONS)} (got {cond!r}) (spec §3.3)")
        count = _require(ctx, "approximateInvokeCount", int, "requestContext", p)
        if count is not None and count < 1:
            p.append(f"requestContext.approximateInvokeCount must be >= 1 (got {count})")
    if "responseContext" in env:
        rctx = _require(env, "responseContext", dict, "", p)
        if rctx is not None:
            _require(rctx, "statusCode", int, "responseContext", p)
            _require(rctx, "executedVersion", str, "responseContext", p)
            if "functionError" in rctx and not isinstance(rctx["functionError"], (str, type(None))):
                p.append("responseContext.functionError must be a string or null")
    elif ctx is not None and ctx.get("condition") == "RetryAttemptsExhausted":
        check.notes.append("responseContext is absent although the function was invoked (spec §3.3)")
    shape = check.shape
    w = shape.batch_info
    if w not in env:
        others = [s.batch_info for s in SHAPES if s is not shape]
        p.append(f"{w} is missing (or {', '.join(others)} for a Kinesis stream's record, spec §10)")
        return
    info = _require(env, w, dict, "", p)
    if info is not None:
        _require(info, "shardId", str, w, p)
        for name in ("startSequenceNumber", "endSequenceNumber"):
            seq = _require(info, name, str, w, p)
            if seq is not None and not shape.sequence.match(seq):
                p.append(f"{w}.{name} must be a string of digits (got {seq!r})")
        for name in ("approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord"):
            stamp = _require(info, name, str, w, p)
            if stamp is not None and shape.arrival_millis:
                m = TIMESTAMP.match(stamp)
                if not m:
                    p.append(f"{w}.{name} must be ISO-8601 UTC like 2019-11-14T00:38:04.835Z (got {stamp!r})")
                elif not m.group("frac"):
                    check.notes.append(f"{w}.{name} has no milliseconds; AWS writes them for Kinesis (spec §10)")
        size = _require(info, "batchSize", int, w, p)
        if size is not None and size < 1:
            p.append(f"{w}.batchSize must be >= 1 (got {size})")
        arn = _require(info, "streamArn", str, w, p)
        if arn is not None and not shape.stream_arn.match(arn):
            p.append(f"{w}.streamArn is not a {shape.stream_label} ARN (got {arn!r})")


def _check_payload(env: dict[str, Any], check: FailureCheck, *, require_payload: bool = True) -> None:
    p = check.problems
    if "payload" not in env:
        if require_payload:
            p.append("payload is missing (an S3 failure record carries the original invocation record, spec §3.2)")
        else:
            check.notes.append("no payload: metadata only (the SQS/SNS destination shape, spec §3.4)")
        return
    payload = env["payload"]
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            p.append(f"payload is a string but not JSON: {exc}")
            return
    elif isinstance(payload, dict):
        check.notes.append("payload is a JSON object, not AWS's shape (AWS writes an escaped JSON string, spec §3.5)")
    else:
        p.append(f"payload must be a JSON string holding {{\"Records\":[...]}} (got {type(payload).__name__})")
        return
    records = payload.get("Records") if isinstance(payload, dict) else None
    if not isinstance(records, list) or not records:
        p.append("payload must hold a non-empty {\"Records\":[...]} list")
        return
    check.records = records
    shape = check.shape
    w, rk, sf = shape.batch_info, shape.record_key, shape.seq_field
    seqs = []
    for i, rec in enumerate(records):
        inner = rec.get(rk) if isinstance(rec, dict) else None
        seq = inner.get(sf) if isinstance(inner, dict) else None
        if not isinstance(seq, str):
            p.append(f"payload.Records[{i}].{rk}.{sf} is missing")
            return
        seqs.append(seq)
    info = check.batch_info
    if _is_int(info.get("batchSize")) and info["batchSize"] != len(records):
        p.append(f"{w}.batchSize is {info['batchSize']} but payload holds {len(records)} records")
    if isinstance(info.get("startSequenceNumber"), str) and info["startSequenceNumber"] != seqs[0]:
        p.append(f"{w}.startSequenceNumber {info['startSequenceNumber']} != first record's {seqs[0]}")
    if isinstance(info.get("endSequenceNumber"), str) and info["endSequenceNumber"] != seqs[-1]:
        p.append(f"{w}.endSequenceNumber {info['endSequenceNumber']} != last record's {seqs[-1]}")


def check_failure_object(key: str | None, body: bytes | str, *, require_payload: bool = True,
                         async_layout: str = "problem") -> FailureCheck:
    """Judge one object: is it an ESM on-failure record for a DynamoDB or Kinesis stream?

    `key=None` judges the body alone (an SQS/SNS message has no key); `require_payload=False`
    accepts the metadata-only SQS/SNS shape; `async_layout` is passed to `check_key`.
    """
    check = FailureCheck(key=key or "")
    match = check_key(key, check, async_layout=async_layout) if key is not None else None
    try:
        env = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except (UnicodeDecodeError, ValueError) as exc:
        check.problems.append(f"object is not JSON: {exc}")
        return check
    if not isinstance(env, dict):
        check.problems.append(f"object must be a JSON object (got {type(env).__name__})")
        return check
    check.envelope = env
    _check_envelope(env, check)
    if check.problems and any(pr.startswith("foreign") for pr in check.problems):
        return check
    _check_payload(env, check, require_payload=require_payload)
    info = check.batch_info
    if match and isinstance(info.get("shardId"), str) and match.group("shard") != info["shardId"]:
        check.problems.append(f"key shard {match.group('shard')!r} != {check.shape.batch_info}.shardId {info['shardId']!r}")
    ts = env.get("timestamp")
    tm = TIMESTAMP.match(ts) if isinstance(ts, str) else None
    if match and tm:
        key_stamp = f"{match.group('y')}-{match.group('m')}-{match.group('d')}T{match.group('time')}"
        if key_stamp != f"{tm.group('date')}T{tm.group('time').replace(':', '.')}":
            check.notes.append(f"key time {key_stamp} differs from envelope timestamp {ts} (spec §4 AWS-OBS)")
    return check
