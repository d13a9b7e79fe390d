"""The ESM failure record (spec sections 3, 4 and 10) as typed models, for both stream kinds:
a DynamoDB stream's (`DDBStreamBatchInfo`) and a Kinesis stream's (`KinesisBatchInfo`). Use
`envelope.batch_info` and `record.source` to read either; `envelope.DDBStreamBatchInfo` is None
on a Kinesis record.

Validity is decided in one place, `harness.failures.checks` (standard library only, shipped
inside the failure-handler Lambda too), so the Lambda, the CLI and replay never disagree. This
module adds the typed view on top: a checked record becomes pydantic models, so callers use
attributes instead of dictionary paths, and a deviation is an error that names the field.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.failures.checks import CONDITIONS, check_failure_object, record_sequence_number
from harness.failures.keys import FailureKey, KeyLayoutError, parse_key


class FailureRecordError(ValueError):
    """The object is not a valid ESM failure record; the message names each field at fault."""


class _Model(BaseModel):
    # Unknown fields are kept, not refused: AWS may add fields; validity is checks.py's call.
    model_config = ConfigDict(extra="allow")


class RequestContext(_Model):
    requestId: str
    functionArn: str
    condition: str
    approximateInvokeCount: int = Field(ge=1)


class ResponseContext(_Model):
    statusCode: int
    executedVersion: str
    functionError: str | None = None


class DDBStreamBatchInfo(_Model):
    shardId: str
    startSequenceNumber: str
    endSequenceNumber: str
    approximateArrivalOfFirstRecord: str
    approximateArrivalOfLastRecord: str
    batchSize: int = Field(ge=1)
    streamArn: str


class KinesisBatchInfo(DDBStreamBatchInfo):
    """The same fields (spec 10: "All of the fields ... will always be present"); arrival times
    carry milliseconds and streamArn is a Kinesis stream ARN."""


_DDBInfo = DDBStreamBatchInfo  # the field names below shadow the class names inside the class body
_KinesisInfo = KinesisBatchInfo


class FailureEnvelope(_Model):
    """The S3 object body (or SQS/SNS message, where `payload` is absent). Exactly one of the
    batch infos is set (checks.py refuses both or neither)."""

    requestContext: RequestContext
    responseContext: ResponseContext | None = None
    version: str
    timestamp: str
    DDBStreamBatchInfo: _DDBInfo | None = None
    KinesisBatchInfo: _KinesisInfo | None = None
    payload: str | dict[str, Any] | None = None

    @property
    def batch_info(self) -> _DDBInfo:
        """The batch info, whichever kind of stream wrote the record."""
        info = self.DDBStreamBatchInfo or self.KinesisBatchInfo
        assert info is not None, "checks.py guarantees one batch info"
        return info

    @property
    def source(self) -> str:
        """"dynamodb" or "kinesis" (spec 10)."""
        return "kinesis" if self.KinesisBatchInfo is not None else "dynamodb"


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
    def source(self) -> str:
        """"dynamodb" or "kinesis": which kind of stream the failed records came from."""
        return self.envelope.source

    @property
    def sequence_numbers(self) -> list[str]:
        """The payload records' sequence numbers (dynamodb.SequenceNumber or kinesis.sequenceNumber)."""
        return [str(record_sequence_number(r)) for r in self.records]


def parse_failure_record(body: bytes | str | dict[str, Any], key: str | None = None) -> FailureRecord:
    """Check (checks.py) and parse a failure record; raise FailureRecordError naming every fault.

    Accepts what a reader may find: the S3 shape with `payload`, the SQS/SNS shape without it,
    a `payload` object (LocalStack's shape) and the async key layout, the last two with a note.
    """
    text = json.dumps(body) if isinstance(body, dict) else body
    check = check_failure_object(key, text, require_payload=False, async_layout="note")
    if check.problems:
        raise FailureRecordError("not a valid ESM failure record: " + "; ".join(check.problems))
    try:
        envelope = FailureEnvelope.model_validate(check.envelope)
    except ValidationError as exc:  # checks.py should have caught it; still name the field
        faults = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise FailureRecordError(f"not a valid ESM failure record: {faults}") from None
    parsed_key = None
    if key is not None:
        try:
            parsed_key = parse_key(key)
        except KeyLayoutError as exc:
            raise FailureRecordError(f"not a valid ESM failure record: {exc}") from None
    return FailureRecord(envelope=envelope, records=check.records or [], key=parsed_key,
                         payload_was_object=isinstance((check.envelope or {}).get("payload"), dict),
                         notes=check.notes)


__all__ = [
    "CONDITIONS", "DDBStreamBatchInfo", "FailureEnvelope", "FailureRecord", "KinesisBatchInfo", "FailureRecordError", "parse_failure_record",
    "KeyLayoutError", "FailureKey", "parse_key",
]
