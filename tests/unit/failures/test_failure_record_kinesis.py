"""harness/failures reads both kinds of failure record (spec 3.2, 4, 10): a Kinesis stream's
(KinesisBatchInfo, kinesis.sequenceNumber) and a DynamoDB stream's, as the engine writes them."""

from __future__ import annotations

import json

import pytest

from harness.esm.destinations import FailureRecord as Written
from harness.esm.destinations import build_envelope, s3_key
from harness.esm.records import make_record
from harness.esm.sources import kinesis as k
from harness.esm.sources.kinesis import KINESIS
from harness.failures import FailureRecordError, parse_failure_record
from harness.failures.checks import check_failure_object
from harness.failures.store import record_matches

UUID = "6d8a2a5e-1c8e-4b4e-9a55-0a1d2c3b4e5f"
KSTREAM = "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
KSHARD = "shardId-000000000006"
DSTREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-06-10T19:26:16.525"
DSHARD = "shardId-00000001573689847184-864758bb"


def kinesis_object(n: int = 2, *, condition: str = "RetryAttemptsExhausted") -> tuple[str, dict]:
    recs = [k.make_record(sequence_number=str(49590338271490256608559692538361571095921575989136588898 + i),
                          arrival_s=1573692484.835 + i, partition_key=f"order-{i}",
                          data_b64=k.encode_data({"type": "buy", "qty": i}), shard_id=KSHARD, stream_arn=KSTREAM,
                          region="us-east-2", invoke_identity_arn="arn:aws:iam::123456789012:role/r") for i in range(n)]
    env = build_envelope(request_id="3f1b6e0a-0000-4000-8000-000000000001",
                         function_arn="arn:aws:lambda:us-east-2:123456789012:function:consumer", condition=condition,
                         approximate_invoke_count=4, function_error=None, executed_version="$LATEST",
                         timestamp=1573692500.123, shard_id=KSHARD, records=recs, stream_arn=KSTREAM, kind=KINESIS)
    body = json.loads(Written("arn:aws:s3:::b", UUID, KSHARD, env, recs, KINESIS).s3_body())
    return s3_key(UUID, KSHARD, env["timestamp"]), body


def dynamodb_object() -> tuple[str, dict]:
    recs = [make_record(sequence_number="800000000003126276362", arrival_s=1573692484, new_image={"pk": {"S": "a"}},
                        keys={"pk": {"S": "a"}}, stream_arn=DSTREAM, region="us-east-1", event_id="e1")]
    env = build_envelope(request_id="r", function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
                         condition="RetryAttemptsExhausted", approximate_invoke_count=1, function_error="Unhandled",
                         executed_version="$LATEST", timestamp=1573692500.5, shard_id=DSHARD, records=recs,
                         stream_arn=DSTREAM)
    body = json.loads(Written("arn:aws:s3:::b", UUID, DSHARD, env, recs).s3_body())
    return s3_key(UUID, DSHARD, env["timestamp"]), body


def test_spec_10_kinesis_failure_record_parses_with_its_batch_info_and_sequence_numbers():
    key, body = kinesis_object()
    assert list(body) == sorted(body) and isinstance(body["payload"], str)  # spec 3.2 S3 shape
    rec = parse_failure_record(body, key=key)
    assert rec.source == "kinesis" and rec.notes == []
    assert rec.sequence_numbers == ["49590338271490256608559692538361571095921575989136588898",
                                    "49590338271490256608559692538361571095921575989136588899"]
    info = rec.envelope.batch_info
    assert rec.envelope.KinesisBatchInfo is info and rec.envelope.DDBStreamBatchInfo is None
    assert info.approximateArrivalOfFirstRecord == "2019-11-14T00:48:04.835Z"  # milliseconds (spec 10)
    assert info.streamArn == KSTREAM and info.batchSize == 2 and info.shardId == KSHARD
    assert rec.key is not None and rec.key.shard_id == KSHARD
    check = check_failure_object(key, json.dumps(body))
    assert check.valid and check.source == "kinesis" and check.batch_info["shardId"] == KSHARD


def test_spec_10_dynamodb_failure_record_still_parses():
    key, body = dynamodb_object()
    rec = parse_failure_record(body, key=key)
    assert rec.source == "dynamodb" and rec.sequence_numbers == ["800000000003126276362"]
    assert rec.envelope.batch_info is rec.envelope.DDBStreamBatchInfo and rec.envelope.KinesisBatchInfo is None
    assert rec.envelope.DDBStreamBatchInfo.approximateArrivalOfFirstRecord == "2019-11-14T00:48:04Z"


def test_spec_10_kinesis_sqs_sns_shape_without_payload():
    _key, body = kinesis_object(condition="RecordAgeExceeded")
    body.pop("payload")
    body.pop("responseContext", None)
    rec = parse_failure_record(body)
    assert rec.source == "kinesis" and rec.records == [] and rec.condition == "RecordAgeExceeded"


@pytest.mark.parametrize("mutate,problem", [
    (lambda b: b["KinesisBatchInfo"].update(streamArn=DSTREAM), "KinesisBatchInfo.streamArn is not a Kinesis stream ARN"),
    (lambda b: b["KinesisBatchInfo"].update(batchSize=3), "KinesisBatchInfo.batchSize is 3 but payload holds 2"),
    (lambda b: b["KinesisBatchInfo"].update(startSequenceNumber="1"), "KinesisBatchInfo.startSequenceNumber 1 != first"),
    (lambda b: b.update(DDBStreamBatchInfo=dict(b["KinesisBatchInfo"])), "both DDBStreamBatchInfo and KinesisBatchInfo"),
    (lambda b: b.update(payload=json.dumps({"Records": [{"kinesis": {}}]})),
     r"payload.Records\[0\].kinesis.sequenceNumber is missing"),
    (lambda b: b["KinesisBatchInfo"].update(approximateArrivalOfLastRecord="yesterday"),
     "approximateArrivalOfLastRecord must be ISO-8601"),
    (lambda b: b.pop("KinesisBatchInfo"), "DDBStreamBatchInfo is missing"),
])
def test_spec_10_inconsistent_kinesis_records_are_refused_naming_the_field(mutate, problem):
    key, body = kinesis_object()
    mutate(body)
    with pytest.raises(FailureRecordError, match=problem):
        parse_failure_record(body, key=key)


def test_spec_10_kinesis_arrival_without_milliseconds_is_a_note():
    key, body = kinesis_object()
    body["KinesisBatchInfo"]["approximateArrivalOfFirstRecord"] = "2019-11-14T00:48:04Z"
    rec = parse_failure_record(body, key=key)
    assert any("no milliseconds" in n and "Kinesis" in n for n in rec.notes)


def test_match_filters_read_kinesis_partition_key_and_data_fields():
    _key, body = kinesis_object()
    first = json.loads(body["payload"])["Records"][0]
    assert record_matches(first, {"partitionKey": "order-0"})
    assert record_matches(first, {"type": "buy", "qty": "0.0"})
    assert not record_matches(first, {"type": "sell"})
    assert not record_matches(first, {"pk": "order-0"})
