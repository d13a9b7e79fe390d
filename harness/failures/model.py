"""The ESM failure record (spec sections 3 and 4) as typed models.

Why pydantic: a failure record is the contract between AWS, the failure handler and replay;
a typed model turns every deviation into an error that names the field, instead of a KeyError
three steps later.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.failures.keys import FailureKey, KeyLayoutError, parse_key

CONDITIONS = ("RetryAttemptsExhausted", "RecordAgeExceeded")


class FailureRecordError(ValueError):
    """The object is not a valid ESM failure record; the message names each field at fault."""


class RequestContext(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requestId: str
    functionArn: str
    condition: Literal["RetryAttemptsExhausted", "RecordAgeExceeded"]
    approximateInvokeCount: int = Field(ge=1)


class ResponseContext(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statusCode: int
    executedVersion: str
    functionError: str | None


class DDBStreamBatchInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shardId: str
    startSequenceNumber: str
    endSequenceNumber: str
    approximateArrivalOfFirstRecord: str
    approximateArrivalOfLastRecord: str
    batchSize: int = Field(ge=1)
    streamArn: str

    @field_validator("approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord")
    @classmethod
    def _whole_seconds(cls, v: str) -> str:
        # Spec 3.2: DynamoDB arrival times are whole seconds with no milliseconds.
        datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ")
        return v


class FailureEnvelope(BaseModel):
    """The S3 object body (or SQS/SNS message, where `payload` is absent)."""

    model_config = ConfigDict(extra="forbid")
    requestContext: RequestContext
    responseContext: ResponseContext | None = None
    version: Literal["1.0"]
    timestamp: str
    DDBStreamBatchInfo: DDBStreamBatchInfo
    payload: str | dict[str, Any] | None = None

    @field_validator("timestamp")
    @classmethod
    def _millis(cls, v: str) -> str:
        # Spec 3.2: ISO-8601 UTC with milliseconds.
        datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ")
        if len(v.rsplit(".", 1)[1]) != 4:
            raise ValueError("timestamp must carry exactly three millisecond digits, e.g. 2019-11-14T00:13:49.717Z")
        return v


class FailureRecord(BaseModel):
    """A parsed, checked failure record with the notes a report should show."""

    envelope: FailureEnvelope
    records: list[dict[str, Any]]
    key: FailureKey | None = None
    payload_was_object: bool = False
    notes: list[str] = Field(default_factory=list)

    @property
    def condition(self) -> str:
        return self.envelope.requestContext.condition

    @property
    def sequence_numbers(self) -> list[str]:
        return [r["dynamodb"]["SequenceNumber"] for r in self.records]


def parse_failure_record(body: bytes | str | dict[str, Any], key: str | None = None) -> FailureRecord:
    """Parse and cross-check a failure record; raise FailureRecordError naming every fault."""
    raw = _load(body)
    try:
        envelope = FailureEnvelope.model_validate(raw)
    except ValidationError as exc:
        faults = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise FailureRecordError(f"not an ESM failure record: {faults}") from None
    notes: list[str] = []
    faults: list[str] = []
    records: list[dict[str, Any]] = []
    payload_was_object = False
    if envelope.payload is None:
        notes.append("no payload: metadata only (SQS/SNS shape)")
    else:
        payload = envelope.payload
        if isinstance(payload, dict):
            payload_was_object = True
            notes.append("payload is a JSON object, not AWS's escaped JSON string (LocalStack writes this shape)")
        else:
            try:
                payload = json.loads(payload)
            except json.JSONDecodeError as exc:
                raise FailureRecordError(f"payload: not valid JSON ({exc.msg} at {exc.pos})") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("Records"), list):
            raise FailureRecordError("payload: must hold an object with a 'Records' list")
        records = payload["Records"]
        faults.extend(_consistency_faults(envelope, records))
    if envelope.requestContext.condition == "RecordAgeExceeded" and envelope.responseContext is not None:
        notes.append("RecordAgeExceeded with a responseContext: AWS omits it (spec 3.3)")
    parsed_key = None
    if key is not None:
        try:
            parsed_key = parse_key(key)
        except KeyLayoutError as exc:
            faults.append(str(exc))
        else:
            if parsed_key.layout == "async":
                notes.append("async-invocation key layout: stream ESMs use aws/lambda/<ESM-UUID>/<shardId>/... (spec 4)")
            elif parsed_key.shard_id != envelope.DDBStreamBatchInfo.shardId:
                faults.append(f"key shard {parsed_key.shard_id!r} differs from DDBStreamBatchInfo.shardId")
            stamp = envelope.timestamp[:19].replace(":", ".")
            if parsed_key.timestamp.strftime("%Y-%m-%dT%H.%M.%S") != stamp:
                notes.append("key time differs from envelope timestamp (spec 4 expects them equal)")
    if faults:
        raise FailureRecordError("inconsistent failure record: " + "; ".join(faults))
    return FailureRecord(envelope=envelope, records=records, key=parsed_key,
                         payload_was_object=payload_was_object, notes=notes)


def _load(body: bytes | str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FailureRecordError(f"object body is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise FailureRecordError(f"object body is JSON {type(raw).__name__}, not an object")
    return raw


def _consistency_faults(envelope: FailureEnvelope, records: list[dict[str, Any]]) -> list[str]:
    info = envelope.DDBStreamBatchInfo
    faults = []
    if info.batchSize != len(records):
        faults.append(f"DDBStreamBatchInfo.batchSize is {info.batchSize} but payload holds {len(records)} records")
    try:
        seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    except (KeyError, TypeError):
        return faults + ["payload.Records: a record lacks dynamodb.SequenceNumber"]
    if seqs and seqs[0] != info.startSequenceNumber:
        faults.append(f"startSequenceNumber {info.startSequenceNumber} is not the first record's {seqs[0]}")
    if seqs and seqs[-1] != info.endSequenceNumber:
        faults.append(f"endSequenceNumber {info.endSequenceNumber} is not the last record's {seqs[-1]}")
    return faults


__all__ = [
    "CONDITIONS", "FailureEnvelope", "FailureRecord", "FailureRecordError", "parse_failure_record",
    "KeyLayoutError", "FailureKey", "parse_key",
]
