"""A writer of
failure objects shaped as spec sections 3.2 (S3 envelope, keys sorted, payload a JSON string),
4 (ESM key layout) and 6 (DynamoDB stream records)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

BUCKET = "failure-bucket"
TABLE = "orders"
ACCOUNT = "123456789012"
SHARD = "shardId-00000001573689847184-864758bb"
STREAM_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}/stream/2024-06-10T19:26:16.525"
ESM_UUID = "6d8a2a5e-1c8e-4b4e-9a55-0a1d2c3b4e5f"
BASE_TIME = datetime(2024, 6, 10, 20, 0, 0, tzinfo=timezone.utc)


def stream_record(seq: int | str, pk: str, event: str = "INSERT", *, extra: dict[str, Any] | None = None,
                  view: str = "NEW_AND_OLD_IMAGES") -> dict[str, Any]:
    """A DynamoDB stream record as Lambda receives it (spec 6), key order as AWS-OBS."""
    seq = str(seq).rjust(21, "0") if str(seq).isdigit() else str(seq)
    keys = {"pk": {"S": pk}}
    image = {"pk": {"S": pk}, "status": {"S": "new"}, "amount": {"N": "5"}, **(extra or {})}
    ddb: dict[str, Any] = {"ApproximateCreationDateTime": 1718050000, "Keys": keys}
    if event != "REMOVE" and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        ddb["NewImage"] = image
    if event != "INSERT" and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        ddb["OldImage"] = image
    ddb.update({"SequenceNumber": seq, "SizeBytes": 40, "StreamViewType": view})
    return {"eventID": uuid.uuid4().hex, "eventName": event, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "dynamodb": ddb, "eventSourceARN": STREAM_ARN}


def envelope(records: list[dict[str, Any]], *, when: datetime = BASE_TIME, condition: str = "RetryAttemptsExhausted",
             shard: str = SHARD, function: str = "consumer") -> dict[str, Any]:
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    env: dict[str, Any] = {
        "DDBStreamBatchInfo": {
            "approximateArrivalOfFirstRecord": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "approximateArrivalOfLastRecord": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "batchSize": len(records), "endSequenceNumber": seqs[-1], "shardId": shard,
            "startSequenceNumber": seqs[0], "streamArn": STREAM_ARN},
        "payload": json.dumps({"Records": records}),
        "requestContext": {"approximateInvokeCount": 3, "condition": condition,
                           "functionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}",
                           "requestId": str(uuid.uuid4())},
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
        "version": "1.0",
    }
    if condition == "RetryAttemptsExhausted":
        env["responseContext"] = {"executedVersion": "$LATEST", "functionError": "Unhandled", "statusCode": 200}
    return env


def failure_key(when: datetime = BASE_TIME, shard: str = SHARD) -> str:
    return (f"aws/lambda/{ESM_UUID}/{shard}/{when:%Y/%m/%d}/{when:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}")


def put_failure(s3: Any, records: list[dict[str, Any]], *, when: datetime = BASE_TIME, **kw: Any) -> str:
    """Write one failure object the way the ESM does; returns its key."""
    key = failure_key(when, kw.get("shard", SHARD))
    body = json.dumps(envelope(records, when=when, **kw), sort_keys=True)
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode())
    return key


