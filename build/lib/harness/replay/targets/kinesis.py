"""Target (d): put records back into a Kinesis stream with their original partition key and data.

Why the original partition key: Kinesis orders records per partition key (one key lives in one
shard), so a replayed record lands where its key's later records go and keeps their order; the
data is the record's own bytes (the event's base64 decoded), so the consumer sees what failed.

Order per partition key: a chunk (one PutRecords call, at most 500 records) never holds two
records of one key (`distinct_keys`). PutRecords can fail single entries (FailedRecordCount)
while later ones succeed; with two records of one key in one call a failed first and a stored
second would reverse their order. The replayer holds back a key's later records once one fails.

No loop marker: unlike the table target, nothing can be added to a Kinesis record without
changing the data the consumer reads, so the ledger alone says what was replayed.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.replay.plan import PlannedRecord
from harness.replay.targets.base import Outcome, TargetError, Verdict

MAX_PUT_RECORDS = 500  # PutRecords: at most 500 records per call
MAX_RECORD_BYTES = 1024 * 1024  # data + partition key, per record


class KinesisTarget:
    """Puts records into `stream` (a stream name or ARN) with PutRecords."""

    max_chunk = MAX_PUT_RECORDS
    distinct_keys = True
    same_object = False

    def __init__(self, kinesis_client: Any, stream: str) -> None:
        if not stream:
            raise ValueError("stream: the Kinesis stream to put replayed records to is required")
        self.kinesis = kinesis_client
        self.stream = stream
        self.stream_name = stream.rsplit("/", 1)[-1] if stream.startswith("arn:") else stream
        self.target_id = f"kinesis/{self.stream_name}"

    def _where(self) -> dict[str, str]:
        return {"StreamARN": self.stream} if self.stream.startswith("arn:") else {"StreamName": self.stream}

    def prepare(self) -> None:
        try:
            desc = self.kinesis.describe_stream_summary(**self._where())["StreamDescriptionSummary"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise TargetError(f"Kinesis stream {self.stream!r} does not exist") from None
            raise TargetError(f"Kinesis stream {self.stream!r}: DescribeStreamSummary failed: {code}") from None
        except BotoCoreError as exc:
            raise TargetError(f"Kinesis stream {self.stream!r}: DescribeStreamSummary failed: {exc}") from None
        status = desc.get("StreamStatus")
        if status not in ("ACTIVE", "UPDATING"):
            raise TargetError(f"Kinesis stream {self.stream!r} is {status}; records can be put only while it is "
                              "ACTIVE or UPDATING")

    def _data(self, record: PlannedRecord) -> bytes:
        return base64.b64decode(record.data_b64 or "", validate=True)

    def check(self, record: PlannedRecord) -> Verdict | None:
        if record.source != "kinesis":
            return Verdict("fail", f"a {record.source} record has no partition key and data to put to a Kinesis "
                                   "stream (replay it with --target table, sqs or consumer)")
        pk = record.partition_key
        if not pk or len(pk) > 256:
            return Verdict("fail", f"partitionKey {pk!r} must be 1..256 characters")
        try:
            data = self._data(record)
        except (ValueError, binascii.Error):
            return Verdict("fail", "kinesis.data is not valid base64")
        if len(data) + len(pk.encode()) > MAX_RECORD_BYTES:
            return Verdict("fail", f"data and partition key are {len(data) + len(pk.encode())} bytes, over "
                                   "Kinesis's 1 MiB per record")
        return None

    def describe(self, record: PlannedRecord) -> str:
        size = len(self._data(record))
        return f"PutRecords {self.stream_name}: partitionKey {record.partition_key}, {size} bytes (seq {record.seq})"

    def send(self, chunk: list[PlannedRecord]) -> list[Outcome]:
        entries = [{"Data": self._data(p), "PartitionKey": p.partition_key} for p in chunk]
        try:
            resp = self.kinesis.put_records(Records=entries, **self._where())
        except ClientError as exc:
            err = exc.response.get("Error", {})
            reason = f"PutRecords to {self.stream_name} failed: {err.get('Code')} {err.get('Message', '')}"
            return [Outcome(p, False, reason) for p in chunk]
        except BotoCoreError as exc:
            return [Outcome(p, False, f"PutRecords to {self.stream_name} failed: {exc}") for p in chunk]
        results = resp.get("Records", [])
        out = []
        for i, p in enumerate(chunk):
            r = results[i] if i < len(results) else {"ErrorCode": "NoResult", "ErrorMessage": "no result for entry"}
            if r.get("ErrorCode"):
                out.append(Outcome(p, False, f"Kinesis refused the record: {r['ErrorCode']}: {r.get('ErrorMessage', '')}"))
            else:
                out.append(Outcome(p, True, f"put to {self.stream_name} {r.get('ShardId')} as {r.get('SequenceNumber')}"))
        return out


__all__ = ["KinesisTarget"]
