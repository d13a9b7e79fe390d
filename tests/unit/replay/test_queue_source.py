"""Failure records from SQS and SNS destinations (spec 3.4: the envelope only, no payload): the queue
is read without consuming it, and the records are read back from the stream by shard and sequence
range while its retention (spec 8: 24 h) holds; past it, an error names the records."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import pytest

from harness.failures.queue import QueueFailureReader, failure_inbox_name, subscribe_failure_inbox
from harness.failures.store import FailureFilters
from harness.replay.cli import register
from harness.replay.sources import QueueSource
from harness.replay.stream_records import RecordsUnavailable, read_back

STREAM_TABLE = "orders-streamed"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="shardproof")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + ".000Z"


@pytest.fixture
def stream(aws) -> dict[str, Any]:
    """A table with a stream holding four records (pk o0..o3); its shard and their sequence numbers."""
    ddb = aws.client("dynamodb")
    arn = ddb.create_table(TableName=STREAM_TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                           BillingMode="PAY_PER_REQUEST",
                           StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
                           )["TableDescription"]["LatestStreamArn"]
    for i in range(4):
        ddb.put_item(TableName=STREAM_TABLE, Item={"pk": {"S": f"o{i}"}})
    streams = aws.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    seqs = [r["dynamodb"]["SequenceNumber"] for r in streams.get_records(ShardIterator=it)["Records"]]
    return {"arn": arn, "shard": shard, "seqs": seqs}


def envelope(stream: dict[str, Any], first: int, last: int, *, arrived: float | None = None,
             batch_size: int | None = None) -> dict[str, Any]:
    """An SQS/SNS failure record (no payload) for records first..last of the stream."""
    when = _iso(arrived if arrived is not None else time.time())
    return {
        "requestContext": {"requestId": "5e7c0b2a-1111-2222-3333-444455556666", "condition": "RetryAttemptsExhausted",
                           "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:consumer",
                           "approximateInvokeCount": 1},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": when,
        "DDBStreamBatchInfo": {"shardId": stream["shard"], "startSequenceNumber": stream["seqs"][first],
                               "endSequenceNumber": stream["seqs"][last],
                               "approximateArrivalOfFirstRecord": when, "approximateArrivalOfLastRecord": when,
                               "batchSize": batch_size or last - first + 1, "streamArn": stream["arn"]}}


def _queue(aws, name: str = "team-failures", **attrs: str) -> str:
    return aws.client("sqs").create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]


def _visible(aws, url: str) -> int:
    return int(aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
               ["Attributes"]["ApproximateNumberOfMessages"])


def test_spec3_4_listing_a_queue_leaves_every_message_in_it(aws, stream) -> None:
    sqs = aws.client("sqs")
    url = _queue(aws)
    for n in range(12):  # more than one receive page
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope(stream, n % 4, n % 4)))
    reader = QueueFailureReader(sqs, url)
    first, second = reader.peek(), reader.peek()
    assert len(first.items) == len(second.items) == 12
    assert all(item.ok for item in first.items)
    assert _visible(aws, url) == 12  # visible again at once: the team's consumer still gets them all
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 10


def test_spec3_4_queue_records_are_read_back_from_the_stream(aws, stream, tmp_path) -> None:
    sqs = aws.client("sqs")
    url = _queue(aws)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope(stream, 1, 2)))
    source = QueueSource(QueueFailureReader(sqs, url), aws.client, ledger_dir=tmp_path)
    (item,) = source.list()
    assert item.unavailable is None
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in item.record.records] == ["o1", "o2"]
    assert item.record.records[0]["eventSourceARN"] == stream["arn"]  # Lambda's record shape (spec 6)
    (only_o2,) = source.list(FailureFilters(match={"pk": "o2"}))  # match needs the records: decided after reading
    assert only_o2.key == item.key
    assert source.list(FailureFilters(match={"pk": "o3"})) == []


def test_spec8_records_past_the_24h_retention_give_an_error_naming_them(aws, stream) -> None:
    from harness.failures.model import parse_failure_record

    record = parse_failure_record(envelope(stream, 0, 1, arrived=time.time() - 25 * 3600))
    with pytest.raises(RecordsUnavailable) as err:
        read_back(record, "msg-1", aws.client("dynamodbstreams"))
    text = str(err.value)
    assert stream["shard"] in text and f"{stream['seqs'][0]}..{stream['seqs'][1]}" in text
    assert "retention of 24 h" in text and "msg-1" in text


def test_spec8_records_no_longer_all_in_the_stream_are_named(aws, stream) -> None:
    from harness.failures.model import parse_failure_record

    # The envelope says 3 records, the shard holds only 2 in that range: one is gone.
    record = parse_failure_record(envelope(stream, 2, 3, batch_size=3))
    with pytest.raises(RecordsUnavailable, match=r"the 3 record\(s\) of shard .* no longer all in the stream"):
        read_back(record, "msg-2", aws.client("dynamodbstreams"))


def test_an_sns_notification_without_raw_delivery_is_unwrapped(aws, stream) -> None:
    sqs = aws.client("sqs")
    url = _queue(aws)
    body = {"Type": "Notification", "MessageId": "x", "Message": json.dumps(envelope(stream, 0, 0))}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    (item,) = QueueFailureReader(sqs, url).peek().items
    assert item.ok and item.record.envelope.batch_info.shardId == stream["shard"]


def test_a_redrive_policy_is_warned_about(aws, stream) -> None:
    sqs = aws.client("sqs")
    dlq = _queue(aws, "team-dlq")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = _queue(aws, "team-redriven", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope(stream, 0, 0)))
    listing = QueueFailureReader(sqs, url).peek()
    (warning,) = listing.warnings
    assert "maxReceiveCount 1" in warning and listing.items[0].key in warning


def test_sns_destination_records_reach_the_harness_inbox(aws, stream) -> None:
    sns = aws.client("sns")
    topic = sns.create_topic(Name="team-failures-topic")["TopicArn"]
    url = subscribe_failure_inbox(aws.client("sqs"), sns, topic)
    assert url.endswith(failure_inbox_name(topic))
    sns.publish(TopicArn=topic, Message=json.dumps(envelope(stream, 3, 3)))
    (item,) = QueueFailureReader(aws.client("sqs"), failure_inbox_name(topic)).peek().items
    assert item.ok


def test_cli_lists_a_queue_and_replays_from_a_topic_once(aws, stream, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # the queue ledger lives in ./.harness/replay-ledger
    sqs = aws.client("sqs")
    url = _queue(aws)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope(stream, 0, 1)))
    endpoint = ["--endpoint-url", aws.endpoint_url]
    assert run(["failures", "list", "--queue", url, *endpoint, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["shard"] == stream["shard"] and row["records"] == 2 and "unavailable" not in row
    assert run(["failures", "show", row["key"], "--queue", url, *endpoint, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in shown["payload_records"]] == ["o0", "o1"]

    sns = aws.client("sns")
    topic = sns.create_topic(Name="team-topic")["TopicArn"]
    subscribe_failure_inbox(sqs, sns, topic)
    sns.publish(TopicArn=topic, Message=json.dumps(envelope(stream, 2, 3)))
    target = sqs.create_queue(QueueName="replayed")["QueueUrl"]
    argv = ["replay", "--topic", topic, *endpoint, "--target", "sqs", "--queue-url", target, "--execute", "--json"]
    assert run(argv) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"replayed": 2}
    assert run(argv) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"already-replayed": 2}
    assert _visible(aws, sqs.get_queue_url(QueueName=failure_inbox_name(topic))["QueueUrl"]) == 1  # left in place


def test_cli_names_a_topic_without_the_harness_inbox(aws, capsys) -> None:
    topic = aws.client("sns").create_topic(Name="never-deployed")["TopicArn"]
    assert run(["failures", "list", "--topic", topic, "--endpoint-url", aws.endpoint_url]) == 2
    err = capsys.readouterr().err
    assert "no queue shardproof-failures-never-deployed" in err and "--queue" in err


def test_cli_replay_past_retention_fails_naming_the_records(aws, stream, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    sqs = aws.client("sqs")
    url = _queue(aws)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope(stream, 0, 1, arrived=time.time() - 30 * 3600)))
    target = sqs.create_queue(QueueName="replayed")["QueueUrl"]
    assert run(["replay", "--queue", url, "--endpoint-url", aws.endpoint_url, "--target", "sqs",
                "--queue-url", target, "--execute", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert not out["ok"] and out["counts"] == {}
    (error,) = out["errors"]
    assert stream["shard"] in error and "past the stream's retention" in error


def test_spec10_kinesis_records_are_read_back_by_shard_and_sequence_range(aws) -> None:
    """A Kinesis failure record (KinesisBatchInfo, spec 10) points at its records the same way; the
    stream's own retention (RetentionPeriodHours) decides how long they can be read back."""
    from harness.failures.model import parse_failure_record

    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="payments", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="payments")["StreamDescriptionSummary"]["StreamARN"]
    seqs = [kinesis.put_record(StreamARN=arn, PartitionKey=f"c-{i}", Data=json.dumps({"n": i}).encode())
            for i in range(4)]
    shard = seqs[0]["ShardId"]
    when = _iso(time.time())
    env = {"requestContext": {"requestId": "5e7c0b2a-1111-2222-3333-444455556666", "condition": "RetryAttemptsExhausted",
                              "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:payments",
                              "approximateInvokeCount": 3},
           "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
           "version": "1.0", "timestamp": when,
           "KinesisBatchInfo": {"shardId": shard, "startSequenceNumber": seqs[1]["SequenceNumber"],
                                "endSequenceNumber": seqs[2]["SequenceNumber"], "approximateArrivalOfFirstRecord": when,
                                "approximateArrivalOfLastRecord": when, "batchSize": 2, "streamArn": arn}}
    records = read_back(parse_failure_record(env), "msg-k", kinesis)
    assert [r["kinesis"]["partitionKey"] for r in records] == ["c-1", "c-2"]
    assert records[0]["eventID"] == f"{shard}:{seqs[1]['SequenceNumber']}"  # Lambda's Kinesis record (spec 10)
    env["KinesisBatchInfo"]["approximateArrivalOfFirstRecord"] = _iso(time.time() - 25 * 3600)
    with pytest.raises(RecordsUnavailable, match="retention of 24 h"):
        read_back(parse_failure_record(env), "msg-k", kinesis)


def test_the_running_up_s_one_sqs_destination_is_the_default(aws, stream, capsys, monkeypatch, tmp_path) -> None:
    from harness import up as harness_up

    sqs = aws.client("sqs")
    url = _queue(aws)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope(stream, 0, 0)))
    state = tmp_path / "up.json"
    state.write_text(json.dumps({"endpoint_url": aws.endpoint_url, "region": "us-east-1", "failure_buckets": [],
                                 "failure_destinations": [arn]}))
    monkeypatch.setattr(harness_up, "STATE_FILE", state)
    monkeypatch.chdir(tmp_path)
    assert run(["failures", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["shard"] == stream["shard"] and row["records"] == 1


def test_failure_destinations_are_every_kind_of_the_stacks_own_mappings() -> None:
    from types import SimpleNamespace

    from harness.pipeline import failure_destinations

    def mapping(uuid: str, destination: str | None) -> dict:
        return {"UUID": uuid, "DestinationConfig": {"OnFailure": {"Destination": destination} if destination else {}}}

    esm = SimpleNamespace(list_event_source_mappings=lambda: [
        mapping("u1", "arn:aws:sqs:us-east-1:123456789012:q"), mapping("u2", "arn:aws:sns:us-east-1:123456789012:t"),
        mapping("u3", "arn:aws:sqs:us-east-1:123456789012:q"), mapping("u4", None),
        mapping("other", "arn:aws:s3:::not-ours")])
    stack = SimpleNamespace(mappings={f"M{i}": f"u{i}" for i in range(1, 5)})
    assert failure_destinations(stack, esm) == ["arn:aws:sqs:us-east-1:123456789012:q",
                                                "arn:aws:sns:us-east-1:123456789012:t"]
