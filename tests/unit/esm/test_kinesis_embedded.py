"""The Kinesis source and EsmService over moto's Kinesis on the embedded backend (spec 10, 8).

moto's own Kinesis -> Lambda mapping is never used: the harness engine reads the stream through
boto3, exactly as it would read AWS's."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from types import SimpleNamespace

import pytest

from harness.backends import get_backend
from harness.esm import Boto3Destinations, EngineSettings, EsmService, EsmValidationError
from harness.esm.config import Backoff
from harness.esm.sources import parent_first
from harness.esm.sources.kinesis import KINESIS, KinesisStreamSource, stand_in_role
from harness.failures import FailureStore, parse_failure_record
from harness.invoke import InvokeResult
from harness.journal import Journal

pytestmark = pytest.mark.timeout(90)
ROLE = "arn:aws:iam::123456789012:role/consumer-role"
FAST = EngineSettings(kinesis_poll_interval_s=0.05, backoff=Backoff(0.01, 2, 0.05))


@pytest.fixture(scope="module")
def backend():
    with get_backend("embedded") as b:
        yield b


def _stream(backend, name: str, shards: int = 1) -> str:
    k = backend.client("kinesis")
    k.create_stream(StreamName=name, ShardCount=shards)
    return k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def _put(backend, arn: str, *items: tuple[str, bytes], hash_key: str | None = None) -> list[str]:
    k = backend.client("kinesis")
    extra = {"ExplicitHashKey": hash_key} if hash_key else {}
    return [k.put_record(StreamARN=arn, PartitionKey=pk, Data=data, **extra)["SequenceNumber"] for pk, data in items]


def _read_all(cursor, rounds: int = 5) -> list[dict]:
    out: list[dict] = []
    for _ in range(rounds):
        got, _done = cursor.read(100)
        out.extend(got)
    return out


class Recorder:
    """Fails any batch holding a record whose data has "poison": true; keeps every event."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.lock = threading.Lock()

    def invoke(self, function_name: str, payload: bytes) -> InvokeResult:
        event = json.loads(payload)
        with self.lock:
            self.events.append(event)
        if any(json.loads(base64.b64decode(r["kinesis"]["data"])).get("poison") for r in event["Records"]):
            return InvokeResult(200, b'{"errorMessage":"poison","errorType":"Poison"}', "Unhandled", "req-fail")
        return InvokeResult(200, b"null", None, "req-ok")

    def data(self) -> list[dict]:
        return [json.loads(base64.b64decode(r["kinesis"]["data"])) for e in self.events for r in e["Records"]]


def test_spec_10_source_reads_moto_records_in_order_in_lambdas_shape(backend):
    arn = _stream(backend, "shape")
    before = time.time()
    seqs = _put(backend, arn, *[(f"pk-{i}", json.dumps({"n": i}).encode()) for i in range(5)])
    assert seqs == ["1", "2", "3", "4", "5"]  # moto numbers per shard (spec 10)
    src = KinesisStreamSource(backend.client("kinesis"), arn, backend.region, invoke_identity_arn=ROLE)
    [shard] = src.list_shards()
    assert shard.shard_id == "shardId-000000000000" and not shard.closed
    recs = _read_all(src.open(shard.shard_id, starting_position="TRIM_HORIZON"))
    assert [r["kinesis"]["sequenceNumber"] for r in recs] == seqs
    first = recs[0]
    assert list(first["kinesis"]) == ["kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data",
                                      "approximateArrivalTimestamp"]
    assert json.loads(base64.b64decode(first["kinesis"]["data"])) == {"n": 0}
    assert first["kinesis"]["partitionKey"] == "pk-0"
    ts = first["kinesis"]["approximateArrivalTimestamp"]
    assert isinstance(ts, float) and round(ts, 3) == ts and before - 5 < ts < time.time() + 5
    assert first["eventID"] == "shardId-000000000000:1" and first["invokeIdentityArn"] == ROLE
    assert (first["eventSource"], first["eventName"], first["eventSourceARN"]) == ("aws:kinesis", "aws:kinesis:record", arn)
    assert KinesisStreamSource(backend.client("kinesis"), arn).invoke_identity_arn == stand_in_role("123456789012")


def test_spec_10_latest_at_timestamp_and_checkpoint_resume(backend):
    arn = _stream(backend, "positions")
    src = KinesisStreamSource(backend.client("kinesis"), arn, backend.region)
    sid = src.list_shards()[0].shard_id
    _put(backend, arn, ("a", b"1"), ("a", b"2"))
    latest = src.open(sid, starting_position="LATEST")
    assert latest.read(100) == ([], False)
    time.sleep(0.05)
    mark = time.time()
    time.sleep(0.05)
    _put(backend, arn, ("a", b"3"), ("a", b"4"))
    assert [r["kinesis"]["sequenceNumber"] for r in _read_all(latest)] == ["3", "4"]
    at = src.open(sid, starting_position="AT_TIMESTAMP", timestamp=mark)
    assert [r["kinesis"]["sequenceNumber"] for r in _read_all(at)] == ["3", "4"]
    resumed = src.open(sid, starting_position="TRIM_HORIZON", after_sequence="2")
    assert [r["kinesis"]["sequenceNumber"] for r in _read_all(resumed)] == ["3", "4"]
    trim = src.open(sid, starting_position="TRIM_HORIZON")
    assert [r["kinesis"]["sequenceNumber"] for r in _read_all(trim)] == ["1", "2", "3", "4"]


def test_spec_8_10_merged_shards_parents_before_child(backend):
    """Spec 8: parents before children; a merged shard has two parents (ParentShardId and
    AdjacentParentShardId) and is read only after both are finished. moto never ends a closed
    shard's iterator, so a closed shard ends at its EndingSequenceNumber. (moto's MergeShards
    copies the parents' records into the child, and routes later puts into a closed parent, so
    nothing is put after the merge: the child holds the copies.)"""
    arn = _stream(backend, "merged", shards=2)
    k = backend.client("kinesis")
    _put(backend, arn, ("a", b'{"p": 0}'), hash_key="0")
    _put(backend, arn, ("b", b'{"p": 1}'), hash_key=str(2**127 + 1))
    k.merge_shards(StreamARN=arn, ShardToMerge="shardId-000000000000", AdjacentShardToMerge="shardId-000000000001")
    src = KinesisStreamSource(k, arn, backend.region)
    shards = {s.shard_id: s for s in src.list_shards()}
    child = shards["shardId-000000000002"]
    assert child.parents == ("shardId-000000000000", "shardId-000000000001")
    assert shards["shardId-000000000000"].closed and not child.closed
    assert [s.shard_id for s in parent_first(list(reversed(list(shards.values()))))][-1] == child.shard_id
    parent_cursor = src.open("shardId-000000000000", starting_position="TRIM_HORIZON")
    got, done = parent_cursor.read(100)
    assert len(got) == 1 and done  # read to its EndingSequenceNumber: finished

    inv, journal = Recorder(), Journal()
    svc = EsmService(client=backend.client, invoker=inv, destinations=None, journal=journal, settings=FAST,
                     region=backend.region)
    svc.create_event_source_mapping(EventSourceArn=arn, FunctionName="fn", StartingPosition="TRIM_HORIZON")
    svc.start()
    try:
        svc.drain(timeout=30)
    finally:
        svc.stop()
    order = [e["shard_id"] for e in journal.entries("batch_formed")]
    assert set(order[:2]) == {"shardId-000000000000", "shardId-000000000001"}
    assert set(order[2:]) == {"shardId-000000000002"} and order[2:]
    assert inv.data() == [{"p": 0}, {"p": 1}, {"p": 0}, {"p": 1}] or inv.data() == [{"p": 1}, {"p": 0}, {"p": 0}, {"p": 1}]


def test_spec_10_esm_service_bisects_poison_to_s3_and_failures_parse_it(backend):
    """End to end over moto's Kinesis: bisect isolates the poison record (spec 2.1), the S3 object
    has the ESM key layout (spec 4) and a KinesisBatchInfo envelope (spec 10) that
    harness.failures parses back; records carry the function's role as invokeIdentityArn."""
    arn = _stream(backend, "orders")
    s3 = backend.client("s3")
    s3.create_bucket(Bucket="kinesis-failures")
    _put(backend, arn, *[(f"order-{i}", json.dumps({"order": i, "poison": i == 3}).encode()) for i in range(6)])
    inv, journal = Recorder(), Journal()
    svc = EsmService(client=backend.client, role_of=lambda fn: ROLE if fn == "consumer" else None, invoker=inv,
                     destinations=Boto3Destinations(s3=s3), journal=journal, settings=FAST, region=backend.region,
                     account_id=backend.account_id)
    resp = svc.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="consumer", StartingPosition="TRIM_HORIZON", BatchSize=6,
        MaximumRetryAttempts=1, BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::kinesis-failures"}})
    svc.start()
    try:
        svc.drain(timeout=30)
    finally:
        svc.stop()
    assert {r["invokeIdentityArn"] for e in inv.events for r in e["Records"]} == {ROLE}
    [obj] = s3.list_objects_v2(Bucket="kinesis-failures")["Contents"]
    key = obj["Key"]
    assert re.match(rf"^aws/lambda/{resp['UUID']}/shardId-000000000000/\d{{4}}/\d{{2}}/\d{{2}}/"
                    rf"\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}\.\d{{2}}\.\d{{2}}-[0-9a-f-]{{36}}$", key)
    body = s3.get_object(Bucket="kinesis-failures", Key=key)["Body"].read()
    record = parse_failure_record(body, key=key)
    assert record.source == "kinesis" and record.sequence_numbers == ["4"]
    info = record.envelope.batch_info
    assert record.envelope.KinesisBatchInfo is info and record.envelope.DDBStreamBatchInfo is None
    assert info.batchSize == 1 and info.streamArn == arn and info.shardId == "shardId-000000000000"
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", info.approximateArrivalOfFirstRecord)
    assert record.envelope.requestContext.approximateInvokeCount == 2
    assert json.loads(base64.b64decode(record.records[0]["kinesis"]["data"])) == {"order": 3, "poison": True}
    assert isinstance(json.loads(body)["payload"], str)
    [listed] = FailureStore(s3, "kinesis-failures").list()
    assert listed.ok and listed.record.source == "kinesis"
    assert {d["order"] for d in inv.data()} == set(range(6))
    assert journal.entries("checkpoint")[-1]["sequence_number"] == "6"  # past every record: the shard moved on


def test_spec_10_mapping_on_a_stream_consumer_reads_its_stream(backend):
    arn = _stream(backend, "fanout")
    consumer = backend.client("kinesis").register_stream_consumer(StreamARN=arn, ConsumerName="app")["Consumer"]
    _put(backend, arn, ("a", b'{"x": 1}'))
    inv = Recorder()
    svc = EsmService(client=backend.client, invoker=inv, destinations=None, settings=FAST, region=backend.region)
    resp = svc.create_event_source_mapping(EventSourceArn=consumer["ConsumerARN"], FunctionName="fn",
                                           StartingPosition="TRIM_HORIZON")
    assert resp["EventSourceArn"] == consumer["ConsumerARN"]
    svc.start()
    try:
        svc.drain(timeout=30)
    finally:
        svc.stop()
    assert inv.data() == [{"x": 1}]
    assert inv.events[0]["Records"][0]["eventSourceARN"] == arn


def test_spec_10_service_without_a_kinesis_client_refuses_the_mapping(backend):
    svc = EsmService(streams_client=backend.client("dynamodbstreams"), invoker=Recorder(), destinations=None)
    with pytest.raises(EsmValidationError, match="no client to read a Kinesis stream"):
        svc.create_event_source_mapping(EventSourceArn="arn:aws:kinesis:us-east-1:123456789012:stream/x",
                                        FunctionName="fn", StartingPosition="LATEST")


def test_spec_10_each_kind_polls_at_its_own_rate():
    """Spec 7.1 / 10: DynamoDB 4/s, Kinesis 1/s by default; `poll_interval_s` overrides both."""
    svc = EsmService(invoker=Recorder(), destinations=None, source_factory=lambda arn: None,  # type: ignore[arg-type]
                     settings=EngineSettings(kinesis_poll_interval_s=0.7))
    k = svc.create_event_source_mapping(EventSourceArn="arn:aws:kinesis:us-east-1:123456789012:stream/x",
                                        FunctionName="fn", StartingPosition="LATEST")["UUID"]
    d = svc.create_event_source_mapping(
        EventSourceArn="arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/x", FunctionName="fn",
        StartingPosition="LATEST")["UUID"]
    assert svc._mappings[k].poll_s == 0.7 and svc._mappings[d].poll_s == 0.25
    fixed = EsmService(invoker=Recorder(), destinations=None, source_factory=lambda arn: None,  # type: ignore[arg-type]
                       poll_interval_s=0.05)
    u = fixed.create_event_source_mapping(EventSourceArn="arn:aws:kinesis:us-east-1:123456789012:stream/x",
                                          FunctionName="fn", StartingPosition="LATEST")["UUID"]
    assert fixed._mappings[u].poll_s == 0.05


def test_pipeline_factory_gives_the_engine_clients_by_service_and_the_functions_role():
    """harness/pipeline.py `_harness_esm`: client(service) and role_of from the runtime's FunctionSpecs."""
    from harness.pipeline import _harness_esm
    from harness.runtime.spec import FunctionSpec

    asked: list[str] = []
    backend = SimpleNamespace(client=lambda service: asked.append(service) or f"<{service}>", region="eu-west-1",
                              account_id="111122223333")
    runtime = SimpleNamespace(functions=lambda: [FunctionSpec(name="fn", code_dir=".", handler="app.h", role_arn=ROLE)])
    pipe = SimpleNamespace(backend=backend, runtime=runtime, journal=None, _clock=None, _esm_settings=None)
    svc = _harness_esm(pipe)
    assert svc._role_of("fn") == ROLE and svc._role_of("other") is None
    assert svc._client(KINESIS) == "<kinesis>"
    assert "kinesis" in asked and svc.region == "eu-west-1"


def test_spec_8_10_split_shard_parent_finishes_then_children_are_read(backend):
    """A split parent (closed) is read to its EndingSequenceNumber and finishes; only then are both
    children read (spec 8). (moto routes the parent's records back into the closed parent while
    splitting, so they are read there.)"""
    arn = _stream(backend, "split")
    k = backend.client("kinesis")
    _put(backend, arn, ("a", b'{"n": 0}'), ("b", b'{"n": 1}'))
    k.split_shard(StreamARN=arn, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    inv, journal = Recorder(), Journal()
    svc = EsmService(client=backend.client, invoker=inv, destinations=None, journal=journal, settings=FAST,
                     region=backend.region)
    uuid = svc.create_event_source_mapping(EventSourceArn=arn, FunctionName="fn", StartingPosition="TRIM_HORIZON")["UUID"]
    svc.start()
    try:
        svc.drain(timeout=30)
        readers = dict(svc._mappings[uuid].readers)
    finally:
        svc.stop()
    listed = {s.shard_id: s for s in KinesisStreamSource(k, arn).list_shards()}
    assert listed["shardId-000000000000"].closed
    assert {listed["shardId-000000000001"].parent_shard_id, listed["shardId-000000000002"].parent_shard_id} == \
        {"shardId-000000000000"}
    assert set(readers) == set(listed) and readers["shardId-000000000000"].finished
    assert not readers["shardId-000000000001"].finished  # open children never finish
    assert sorted(d["n"] for d in inv.data()) == [0, 1]
