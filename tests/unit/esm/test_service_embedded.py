"""EsmService + the boto3 stream source against the embedded (moto) backend, end to end.

moto's stream records differ from Lambda's (spec 6); the invoker sees the normalised shape.
"""

from __future__ import annotations

import json
import re
import threading

import pytest

from harness.backends import get_backend
from harness.esm import Boto3Destinations, EsmService, EsmValidationError
from harness.esm.config import Backoff
from harness.invoke import InvokeResult
from harness.journal import Journal

pytestmark = pytest.mark.timeout(60)


class FakeInvoker:
    """Fails records whose NewImage.poison is true; remembers every event it got."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.names: list[str] = []
        self.lock = threading.Lock()

    def invoke(self, function_name: str, payload: bytes) -> InvokeResult:
        event = json.loads(payload)
        with self.lock:
            self.events.append(event)
            self.names.append(function_name)
        if any(r["dynamodb"].get("NewImage", {}).get("poison", {}).get("BOOL") for r in event["Records"]):
            return InvokeResult(200, b'{"errorMessage":"poison","errorType":"Poison"}', "Unhandled", "req-fail")
        return InvokeResult(200, b"null", None, "req-ok")


@pytest.fixture(scope="module")
def backend():
    with get_backend("embedded") as b:
        yield b


def _table(backend, name: str) -> str:
    ddb = backend.client("dynamodb")
    resp = ddb.create_table(
        TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return resp["TableDescription"]["LatestStreamArn"]


def test_end_to_end_bisect_to_s3_with_normalised_records(backend):
    """Spec 2.1 bisect + spec 3.2/4 envelope and key + spec 6 record shape, through moto."""
    stream_arn = _table(backend, "orders")
    s3 = backend.client("s3")
    s3.create_bucket(Bucket="failures")
    ddb = backend.client("dynamodb")
    for i in range(6):
        ddb.put_item(TableName="orders", Item={"pk": {"S": f"o{i}"}, "poison": {"BOOL": i == 3}})
    invoker = FakeInvoker()
    journal = Journal()
    svc = EsmService(streams_client=backend.client("dynamodbstreams"), invoker=invoker,
                     destinations=Boto3Destinations(s3=s3), journal=journal, poll_interval_s=0.05,
                     backoff=Backoff(0.01, 2, 0.05))
    resp = svc.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName="arn:aws:lambda:us-east-1:123456789012:function:consumer",
        StartingPosition="TRIM_HORIZON", BatchSize=6, MaximumRetryAttempts=1, BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::failures"}})
    assert resp["State"] == "Creating" and resp["MaximumRecordAgeInSeconds"] == -1
    assert resp["EventSourceMappingArn"].endswith(":event-source-mapping:" + resp["UUID"])
    svc.start()
    try:
        svc.drain(timeout=30)
    finally:
        svc.stop()
        svc.stop()  # safe twice
    assert set(invoker.names) == {"consumer"}  # an ARN FunctionName -> bare name for the invoker
    first = invoker.events[0]["Records"][0]
    assert list(first) == ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"]
    assert first["eventVersion"] == "1.1" and first["eventSourceARN"] == stream_arn
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], int)
    assert len(str(first["dynamodb"]["ApproximateCreationDateTime"])) == 10
    objs = s3.list_objects_v2(Bucket="failures").get("Contents", [])
    assert len(objs) == 1
    key = objs[0]["Key"]
    body = json.loads(s3.get_object(Bucket="failures", Key=key)["Body"].read())
    assert re.match(rf"^aws/lambda/{resp['UUID']}/shardId-[^/]+/\d{{4}}/\d{{2}}/\d{{2}}/\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}\.\d{{2}}\.\d{{2}}-[0-9a-f-]{{36}}$", key)
    assert isinstance(body["payload"], str)
    payload = json.loads(body["payload"])
    assert [r["dynamodb"]["NewImage"]["pk"]["S"] for r in payload["Records"]] == ["o3"]
    assert body["requestContext"]["approximateInvokeCount"] == 2
    assert body["responseContext"]["functionError"] == "Unhandled"
    m = svc.metrics(resp["UUID"])
    assert m["PolledEventCount"] == 6 and m["OnFailureDestinationDeliveredEventCount"] == 1
    seqs = {e["sequence_number"] for e in journal.entries("checkpoint")}
    last_seq = payload["Records"][0]["dynamodb"]["SequenceNumber"]
    assert journal.entries("checkpoint")[-1]["sequence_number"] > last_seq and last_seq in seqs


def test_service_picks_up_new_items_and_drain_waits_for_them(backend):
    stream_arn = _table(backend, "live")
    ddb = backend.client("dynamodb")
    invoker = FakeInvoker()
    svc = EsmService(streams_client=backend.client("dynamodbstreams"), invoker=invoker, destinations=None,
                     poll_interval_s=0.05)
    uuid = svc.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName="consumer",
                                           StartingPosition="LATEST", BatchSize=10)["UUID"]
    svc.start()
    try:
        svc.drain(timeout=20)
        for i in range(3):
            ddb.put_item(TableName="live", Item={"pk": {"S": f"k{i}"}})
        svc.drain(timeout=20)
        assert sum(len(e["Records"]) for e in invoker.events) == 3
        assert svc.list_event_source_mappings()[0]["State"] == "Enabled"
        assert svc.delete_event_source_mapping(uuid)["State"] == "Deleting"
        with pytest.raises(EsmValidationError, match="does not exist"):
            svc.delete_event_source_mapping(uuid)
    finally:
        svc.stop()


def test_drain_timeout_names_the_busy_shard(backend):
    stream_arn = _table(backend, "stuck")
    backend.client("dynamodb").put_item(TableName="stuck", Item={"pk": {"S": "x"}, "poison": {"BOOL": True}})
    svc = EsmService(streams_client=backend.client("dynamodbstreams"), invoker=FakeInvoker(), destinations=None,
                     poll_interval_s=0.05, backoff=Backoff(0.05, 1, 0.05))
    uuid = svc.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName="consumer",
                                           StartingPosition="TRIM_HORIZON")["UUID"]
    svc.start()
    try:
        with pytest.raises(TimeoutError, match=f"mapping {uuid} shard shardId-"):
            svc.drain(timeout=0.5)  # spec 1: -1 retries keep the shard blocked
    finally:
        svc.stop()


def test_spec3_2_sqs_and_sns_destinations_get_the_envelope_only_in_aws_key_order(backend):
    """Spec 3.2 / 9.7: SQS body and SNS Message are the envelope JSON, no payload, AWS key order."""
    from harness.esm.destinations import FailureRecord, build_envelope

    sqs, sns = backend.client("sqs"), backend.client("sns")
    q = sqs.create_queue(QueueName="esm-failures")["QueueUrl"]
    q_arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    tq = sqs.create_queue(QueueName="topic-sub")["QueueUrl"]
    tq_arn = sqs.get_queue_attributes(QueueUrl=tq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="esm-failures")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=tq_arn)
    rec = {"eventID": "e", "dynamodb": {"SequenceNumber": "1" * 21, "ApproximateCreationDateTime": 1700000000}}
    env = build_envelope(request_id="r", function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
                         condition="RetryAttemptsExhausted", approximate_invoke_count=2, function_error="Unhandled",
                         executed_version="$LATEST", timestamp=1700000000.5, shard_id="shardId-1", records=[rec],
                         stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/x")
    d = Boto3Destinations(sqs=sqs, sns=sns)
    d.deliver(FailureRecord(q_arn, "u", "shardId-1", env, [rec]))
    d.deliver(FailureRecord(topic, "u", "shardId-1", env, [rec]))
    body = sqs.receive_message(QueueUrl=q)["Messages"][0]["Body"]
    assert list(json.loads(body)) == ["requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"]
    assert json.loads(body)["timestamp"] == "2023-11-14T22:13:20.500Z"
    note = json.loads(sqs.receive_message(QueueUrl=tq)["Messages"][0]["Body"])
    assert note["Type"] == "Notification" and json.loads(note["Message"]) == env and "payload" not in note["Message"]
    from harness.esm import DestinationDeliveryError
    with pytest.raises(DestinationDeliveryError, match="esm-missing"):
        d.deliver(FailureRecord(q_arn.replace("esm-failures", "esm-missing"), "u", "shardId-1", env, [rec]))


def test_spec_7_1_latest_reads_at_the_tip_and_held_readers_see_every_write_in_one_batch(backend):
    """StartingPosition LATEST: a record written before the mapping read at the tip is never
    delivered; once at the tip and held, writes made meanwhile reach the function as one batch."""
    stream_arn = _table(backend, "latest-orders")
    ddb = backend.client("dynamodb")
    ddb.put_item(TableName="latest-orders", Item={"pk": {"S": "before"}})  # before the mapping starts
    invoker = FakeInvoker()
    journal = Journal()
    svc = EsmService(streams_client=backend.client("dynamodbstreams"), invoker=invoker,
                     destinations=Boto3Destinations(), journal=journal, poll_interval_s=0.02)
    uuid = svc.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName="fn", StartingPosition="LATEST",
                                           BatchSize=10)["UUID"]
    svc.start()
    try:
        svc.wait_at_tip(uuid, timeout=10)
        svc.hold()
        for i in range(5):
            ddb.put_item(TableName="latest-orders", Item={"pk": {"S": f"after-{i}"}})
        assert invoker.events == []  # held: nothing polled while writing
        svc.release()
        svc.drain(timeout=20)
    finally:
        svc.stop()
    assert [[r["dynamodb"]["Keys"]["pk"]["S"] for r in e["Records"]] for e in invoker.events] == [
        [f"after-{i}" for i in range(5)]]
    assert [e["kind"] for e in journal.entries() if e["kind"] in ("esm_held", "esm_released")] == [
        "esm_held", "esm_released"]


def test_hold_waits_for_a_poll_already_under_way():
    """A reader mid-poll when hold() is called finishes that poll before hold() returns, so a caller
    that writes after hold() can never have its first records split off into an early batch."""
    from harness.esm.sources import ShardInfo

    started, release = threading.Event(), threading.Event()

    class SlowCursor:
        positioned = True

        def read(self, limit):
            started.set()
            release.wait(5)
            return [], False

    class SlowSource:
        stream_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"

        def list_shards(self):
            return [ShardInfo("shard-1", None, False)]

        def open(self, shard_id, *, starting_position, after_sequence=None):
            return SlowCursor()

    svc = EsmService(streams_client=None, invoker=FakeInvoker(), destinations=Boto3Destinations(),
                     poll_interval_s=0.01, source_factory=lambda arn: SlowSource())
    svc.create_event_source_mapping(EventSourceArn=SlowSource.stream_arn, FunctionName="fn",
                                    StartingPosition="LATEST")
    svc.start()
    try:
        assert started.wait(5)
        held = threading.Event()
        threading.Thread(target=lambda: (svc.hold(), held.set()), daemon=True).start()
        assert not held.wait(0.3)  # the poll is still under way
        release.set()
        assert held.wait(5)
    finally:
        svc.release()
        svc.stop()


def test_spec_7_1_and_10_a_kinesis_cursor_at_latest_is_placed_by_its_first_read(backend):
    """LATEST means the tip when the iterator is made: wait_at_tip relies on `positioned`, which
    both kinds' cursors share (sources/cursor.py), so a Kinesis LATEST scenario writes only after it."""
    from harness.esm.sources.kinesis import KinesisStreamSource

    kinesis = backend.client("kinesis")
    kinesis.create_stream(StreamName="latest-events", ShardCount=1)
    arn = kinesis.describe_stream(StreamName="latest-events")["StreamDescription"]["StreamARN"]
    kinesis.put_record(StreamName="latest-events", PartitionKey="k", Data=b"before")
    source = KinesisStreamSource(kinesis, arn, backend.region)
    [shard] = source.list_shards()
    cursor = source.open(shard.shard_id, starting_position="LATEST")
    assert cursor.positioned is False
    assert cursor.read(10) == ([], False) and cursor.positioned is True
    kinesis.put_record(StreamName="latest-events", PartitionKey="k", Data=b"after")
    records, _ = cursor.read(10)
    assert [r["kinesis"]["data"] for r in records] == ["YWZ0ZXI="]  # base64 of b"after", never b"before"
