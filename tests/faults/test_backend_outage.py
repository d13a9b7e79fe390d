"""The backend unreachable for seconds mid-run (spec 1: errors before the function is reached
are retried and never counted), then back: the engine resumes from its checkpoint, nothing lost.

The ESM's stream reads and destination writes go through a proxy that is cut for ~2 s while
records keep arriving in the table; then the Invoke path fails with service errors. With
MaximumRetryAttempts=0, a single *counted* failure would discard a batch, so "no destination
write, nothing dropped" is the proof that neither outage was counted.
"""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest
from botocore.config import Config

from faultkit import PausableProxy, audit, wait_until  # type: ignore[import-not-found]
from harness.backends import get_backend
from harness.esm import Boto3Destinations, EngineSettings, EsmService
from harness.esm.config import Backoff
from harness.invoke import InvokeResult, InvokeServiceError
from harness.journal import Journal

pytestmark = pytest.mark.timeout(60)


class RecordingInvoker:
    """The consumer: remembers every record it got; fails with service errors while told to."""

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.service_errors = 0
        self.unreachable = threading.Event()
        self.lock = threading.Lock()

    def invoke(self, function_name: str, payload: bytes) -> InvokeResult:
        seqs = [r["dynamodb"]["SequenceNumber"] for r in json.loads(payload)["Records"]]
        if self.unreachable.is_set():
            with self.lock:
                self.service_errors += 1
            raise InvokeServiceError(f"Invoke {function_name}: connection refused (fault test)")
        with self.lock:
            self.delivered.extend(seqs)
        return InvokeResult(200, b"null", None, f"req-{len(self.delivered)}")


def _client(service: str, url: str):  # type: ignore[no-untyped-def]
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=5))


def _put(ddb, table: str, start: int, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(start, start + n):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i:04d}"}, "n": {"N": str(i)}})


def _all_seqs(streams, arn: str) -> set[str]:  # type: ignore[no-untyped-def]
    out: set[str] = set()
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            resp = streams.get_records(ShardIterator=it, Limit=1000)
            out.update(r["dynamodb"]["SequenceNumber"] for r in resp["Records"])
            if not resp["Records"]:
                break
            it = resp.get("NextShardIterator")
    return out


def test_backend_outage_is_retried_uncounted_and_resumes_from_the_checkpoint():
    with get_backend("embedded") as backend:
        ddb = backend.client("dynamodb")
        arn = ddb.create_table(
            TableName="outage", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        backend.client("s3").create_bucket(Bucket="outage-failures")
        proxy = PausableProxy(backend.endpoint_url)
        journal = Journal()
        invoker = RecordingInvoker()
        esm = EsmService(streams_client=_client("dynamodbstreams", proxy.url), invoker=invoker,
                         destinations=Boto3Destinations(s3=_client("s3", proxy.url)), journal=journal,
                         poll_interval_s=0.1, settings=EngineSettings(backoff=Backoff(0.1, 2.0, 0.4)))
        uuid = esm.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="consumer", StartingPosition="TRIM_HORIZON", BatchSize=10,
            MaximumRetryAttempts=0, BisectBatchOnFunctionError=True,
            DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::outage-failures"}})["UUID"]
        try:
            esm.start()
            _put(ddb, "outage", 0, 20)
            wait_until(lambda: len(invoker.delivered) >= 20, timeout=20, what="the first 20 records")
            # The checkpoint follows the invoke's return: wait for it, or the outage may begin between them.
            wait_until(lambda: journal.entries("checkpoint") and journal.entries("checkpoint")[-1]["sequence_number"]
                       == max(invoker.delivered, key=int), timeout=10, what="the checkpoint after the first 20 records")

            # Fault 1: the engine cannot reach the backend; records keep arriving meanwhile.
            checkpoint_before = journal.entries("checkpoint")[-1]["sequence_number"]
            outage_began = len(journal)
            proxy.pause()
            _put(ddb, "outage", 20, 20)
            # The shard's reader must feel it, not only the coordinator listing shards (its errors
            # carry no checkpoint, and alone they can satisfy a count of reader_error entries).
            wait_until(lambda: len([e for e in journal.entries("reader_error")[-50:]
                                    if e["seq"] > outage_began and e.get("shard_id")]) >= 2,
                       timeout=15, what="the shard reader to feel the outage (reader_error entries)")
            time.sleep(1.0)  # keep it down long enough for several polls and backoffs
            proxy.resume()
            wait_until(lambda: len(invoker.delivered) >= 40, timeout=20, what="the records written during the outage")

            # Fault 2: the function cannot be reached (service errors, never counted).
            invoker.unreachable.set()
            _put(ddb, "outage", 40, 10)
            wait_until(lambda: invoker.service_errors >= 3, timeout=15, what="three service errors")
            invoker.unreachable.clear()
            esm.drain(timeout=20)
        finally:
            esm.stop()
            proxy.close()

        all_seqs = _all_seqs(backend.client("dynamodbstreams"), arn)
    assert len(all_seqs) == 50
    outage_errors = [e for e in journal.entries("reader_error") if e["seq"] > outage_began]
    assert outage_errors and proxy.refused > 0, "the outage was never felt"
    # Resumed from the checkpoint: every reader_error names the checkpoint it will re-read from.
    assert any(e.get("checkpoint") == checkpoint_before for e in outage_errors if e.get("shard_id")), \
        (checkpoint_before, [(e.get("shard_id"), e.get("checkpoint")) for e in outage_errors][:5])
    # Nothing lost, nothing discarded, and at least once became exactly once here: a read error
    # drops only uninvoked buffered records, which are read again from the checkpoint.
    where = audit(journal, all_seqs)
    assert where["lost"] == set() and where["destination"] == set() and where["dropped"] == set()
    assert sorted(invoker.delivered) == sorted(all_seqs) and len(invoker.delivered) == 50
    # Spec 1: service errors are retried, not counted; no function error occurred at all.
    results = journal.entries("invoke_result")
    service = [e for e in results if e["outcome"] == "service_error"]
    assert len(service) >= 3 and all(e["counted"] is False for e in service)
    assert not [e for e in results if e["counted"]]
    assert all(e["retries"] == 0 for e in journal.entries("invoked"))
    m = esm.metrics(uuid)
    assert m["DroppedEventCount"] == 0 and m["OnFailureDestinationDeliveredEventCount"] == 0
    assert m["PolledEventCount"] >= 50
