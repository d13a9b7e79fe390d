"""Replay throughput: the table target on the embedded backend (issue 5 target: >= 1000 records/s).

Writes OBJECTS failure objects of RECORDS records each (spec 3.2 shape), then times one executed
replay run end to end: listing and parsing the objects, reading the ledger, BatchWriteItem,
ledger writes and object tags. Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.backends import get_backend  # noqa: E402
from harness.failures.store import FailureStore  # noqa: E402
from harness.replay import Replayer, TableTarget  # noqa: E402

OBJECTS, RECORDS = 50, 100
BUCKET, TABLE = "bench-failures", "bench-orders"
SHARD = "shardId-00000001573689847184-864758bb"
ARN = f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}/stream/2024-06-10T19:26:16.525"


def _record(seq: int) -> dict:
    pk = {"S": f"order#{seq % 1000}"}
    return {"eventID": uuid.uuid4().hex, "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {"ApproximateCreationDateTime": 1718050000, "Keys": {"pk": pk},
                         "NewImage": {"pk": pk, "status": {"S": "paid"}, "amount": {"N": str(seq)}},
                         "SequenceNumber": str(seq).rjust(21, "0"), "SizeBytes": 60,
                         "StreamViewType": "NEW_AND_OLD_IMAGES"},
            "eventSourceARN": ARN}


def _write_objects(s3) -> None:
    base = datetime(2024, 6, 10, 20, 0, tzinfo=timezone.utc)
    for o in range(OBJECTS):
        when = base + timedelta(seconds=o)
        recs = [_record(o * RECORDS + i + 1) for i in range(RECORDS)]
        seqs = [r["dynamodb"]["SequenceNumber"] for r in recs]
        env = {"DDBStreamBatchInfo": {"approximateArrivalOfFirstRecord": f"{when:%Y-%m-%dT%H:%M:%SZ}",
                                      "approximateArrivalOfLastRecord": f"{when:%Y-%m-%dT%H:%M:%SZ}",
                                      "batchSize": RECORDS, "endSequenceNumber": seqs[-1], "shardId": SHARD,
                                      "startSequenceNumber": seqs[0], "streamArn": ARN},
               "payload": json.dumps({"Records": recs}),
               "requestContext": {"approximateInvokeCount": 1, "condition": "RetryAttemptsExhausted",
                                  "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:consumer",
                                  "requestId": str(uuid.uuid4())},
               "responseContext": {"executedVersion": "$LATEST", "functionError": "Unhandled", "statusCode": 200},
               "timestamp": f"{when:%Y-%m-%dT%H:%M:%S}.000Z", "version": "1.0"}
        key = f"aws/lambda/{uuid.uuid4()}/{SHARD}/{when:%Y/%m/%d}/{when:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"
        s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(env, sort_keys=True).encode())


def main() -> int:
    with get_backend("embedded") as backend:
        s3, ddb = backend.client("s3"), backend.client("dynamodb")
        s3.create_bucket(Bucket=BUCKET)
        ddb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        _write_objects(s3)
        store = FailureStore(s3, BUCKET)
        began = time.perf_counter()
        summary = Replayer(store, TableTarget(ddb, TABLE), execute=True).run()
        elapsed = time.perf_counter() - began
        replayed = summary.count("replayed")
        began = time.perf_counter()
        again = Replayer(store, TableTarget(ddb, TABLE), execute=True).run()
        noop_elapsed = time.perf_counter() - began
    if not summary.ok or replayed != OBJECTS * RECORDS or again.count("already-replayed") != replayed:
        print(f"replay benchmark run was not clean: {summary.counts} then {again.counts}", file=sys.stderr)
        return 1
    print(json.dumps({"replay_records_per_s": round(replayed / elapsed, 1), "replay_records": replayed,
                      "replay_seconds": round(elapsed, 3), "replay_noop_rerun_seconds": round(noop_elapsed, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
