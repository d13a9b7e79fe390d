"""Replay to a Kinesis stream (issue 13 part 6): PutRecords with each record's original partition key
and data, in order per partition key, the ledger as for the other targets, dry run by default;
`shardproof failures list|show` shows Kinesis failure objects too."""

from __future__ import annotations

import argparse
import base64
import json
from datetime import datetime, timezone

import pytest

import harness.up as harness_up
from harness.esm.destinations import FailureRecord as Written
from harness.esm.destinations import build_envelope, s3_key
from harness.esm.sources import kinesis as k
from harness.esm.sources.kinesis import KINESIS
from harness.failures.store import FailureFilters, FailureStore
from harness.replay import KinesisTarget, Replayer, TableTarget
from harness.replay import cli as replay_cli
from harness.replay.cli import register
from harness.replay.plan import PlannedRecord
from replay_objects import BUCKET, TABLE, put_failure, stream_record

SOURCE = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
SHARD = "shardId-000000000000"
UUID = "6d8a2a5e-1c8e-4b4e-9a55-0a1d2c3b4e5f"


def put_kinesis_failure(s3, items: list[tuple[int, str, object]], *, at: float = 1_718_049_600.0) -> str:
    """A failure object written by the engine's own envelope code: (seq, partition key, data)."""
    recs = [k.make_record(sequence_number=str(seq), arrival_s=at, partition_key=pk, data_b64=k.encode_data(data),
                          shard_id=SHARD, stream_arn=SOURCE, region="us-east-1",
                          invoke_identity_arn="arn:aws:iam::123456789012:role/r") for seq, pk, data in items]
    env = build_envelope(request_id="r", function_arn="arn:aws:lambda:us-east-1:123456789012:function:consumer",
                         condition="RetryAttemptsExhausted", approximate_invoke_count=2, function_error="Unhandled",
                         executed_version="$LATEST", timestamp=at + 60, shard_id=SHARD, records=recs,
                         stream_arn=SOURCE, kind=KINESIS)
    key = s3_key(UUID, SHARD, env["timestamp"])
    s3.put_object(Bucket=BUCKET, Key=key, Body=Written("arn:aws:s3:::b", UUID, SHARD, env, recs, KINESIS).s3_body())
    return key


def stream(aws, name: str = "replayed") -> str:
    kin = aws.client("kinesis")
    kin.create_stream(StreamName=name, ShardCount=1)
    return name


def stream_contents(aws, name: str) -> list[tuple[str, bytes]]:
    kin = aws.client("kinesis")
    arn = kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    it = kin.get_shard_iterator(StreamARN=arn, ShardId=SHARD, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = kin.get_records(ShardIterator=it, StreamARN=arn, Limit=1000)["Records"]
    return [(r["PartitionKey"], r["Data"]) for r in recs]


def test_replay_to_kinesis_dry_run_execute_then_ledger_no_op(aws):
    s3 = aws.client("s3")
    put_kinesis_failure(s3, [(1, "a", {"n": 1}), (3, "b", "plain text")])
    put_kinesis_failure(s3, [(2, "a", {"n": 2}), (4, "a", [4])], at=1_718_049_700.0)
    name = stream(aws)
    store = FailureStore(s3, BUCKET)

    dry = Replayer(store, KinesisTarget(aws.client("kinesis"), name)).run()
    assert dry.counts == {"would-replay": 4} and stream_contents(aws, name) == []
    assert all("PutRecords replayed: partitionKey" in r.detail for r in dry.results)

    done = Replayer(store, KinesisTarget(aws.client("kinesis"), name), execute=True).run()
    assert done.ok and done.counts == {"replayed": 4} and done.target_id == "kinesis/replayed"
    got = stream_contents(aws, name)
    assert [pk for pk, _ in got if pk == "a"] == ["a", "a", "a"]
    assert [d for pk, d in got if pk == "a"] == [b'{"n":1}', b'{"n":2}', b"[4]"]  # per-key order kept
    assert ("b", b"plain text") in got  # original bytes, not re-encoded

    again = Replayer(store, KinesisTarget(aws.client("kinesis"), name), execute=True).run()
    assert again.counts == {"already-replayed": 4} and len(stream_contents(aws, name)) == 4


def test_kinesis_target_refuses_dynamodb_records_and_table_target_refuses_kinesis(aws):
    s3 = aws.client("s3")
    put_failure(s3, [stream_record(1, "order#1")])
    put_kinesis_failure(s3, [(5, "a", {"n": 1})])
    name = stream(aws)
    store = FailureStore(s3, BUCKET)
    to_kinesis = Replayer(store, KinesisTarget(aws.client("kinesis"), name), execute=True).run()
    by_seq = {r.seq: r for r in to_kinesis.results}
    assert by_seq["000000000000000000001"].outcome == "failed"
    assert "no partition key and data to put to a Kinesis stream" in by_seq["000000000000000000001"].detail
    assert by_seq["5"].outcome == "replayed"
    to_table = Replayer(store, TableTarget(aws.client("dynamodb"), TABLE), execute=True).run()
    by_seq = {r.seq: r for r in to_table.results}
    assert by_seq["5"].outcome == "failed" and "--target kinesis" in by_seq["5"].detail


class FlakyKinesis:
    """PutRecords where the first entry of the first call fails (FailedRecordCount 1)."""

    def __init__(self) -> None:
        self.calls: list[list[dict]] = []

    def describe_stream_summary(self, **kw):
        return {"StreamDescriptionSummary": {"StreamStatus": "ACTIVE"}}

    def put_records(self, Records, **kw):
        self.calls.append(Records)
        out = []
        for i, _ in enumerate(Records):
            if len(self.calls) == 1 and i == 0:
                out.append({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"})
            else:
                out.append({"ShardId": SHARD, "SequenceNumber": str(100 + i)})
        return {"FailedRecordCount": 1 if len(self.calls) == 1 else 0, "Records": out}


def test_a_failed_entry_holds_back_its_keys_later_records_and_calls_hold_distinct_keys(aws):
    s3 = aws.client("s3")
    put_kinesis_failure(s3, [(1, "a", 1), (2, "b", 2), (3, "a", 3), (4, "c", 4)])
    fake = FlakyKinesis()
    summary = Replayer(FailureStore(s3, BUCKET), KinesisTarget(fake, "s"), execute=True).run()
    outcome = {r.seq: r.outcome for r in summary.results}
    assert outcome == {"1": "failed", "2": "replayed", "3": "blocked", "4": "replayed"}
    assert all(len({e["PartitionKey"] for e in call}) == len(call) for call in fake.calls)
    assert not summary.ok
    assert "ProvisionedThroughputExceededException" in [r for r in summary.results if r.seq == "1"][0].detail


def test_kinesis_target_checks_and_missing_stream(aws):
    rec = k.make_record(sequence_number="1", arrival_s=1.0, partition_key="p" * 257, data_b64="", shard_id=SHARD,
                        stream_arn=SOURCE, region="us-east-1", invoke_identity_arn="r")
    target = KinesisTarget(aws.client("kinesis"), "nope")
    assert "1..256" in target.check(PlannedRecord("key", rec, "1", "partitionKey=p", 0)).reason
    rec["kinesis"].update(partitionKey="p", data="***")
    assert "not valid base64" in target.check(PlannedRecord("key", rec, "1", "partitionKey=p", 0)).reason
    with pytest.raises(Exception, match="Kinesis stream 'nope' does not exist"):
        target.prepare()
    with pytest.raises(ValueError, match="stream"):
        KinesisTarget(aws.client("kinesis"), "")


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="harness")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def conn(aws, monkeypatch, tmp_path):
    monkeypatch.setattr(harness_up, "STATE_FILE", tmp_path / "absent.json")
    monkeypatch.setenv("COLUMNS", "300")
    return ["--bucket", BUCKET, "--endpoint-url", aws.endpoint_url]


def test_cli_failures_list_and_show_say_the_source_kind(aws, conn, capsys):
    s3 = aws.client("s3")
    kkey = put_kinesis_failure(s3, [(7, "order-7", {"n": 7})])
    dkey = put_failure(s3, [stream_record(1, "order#1")], when=datetime(2024, 6, 10, 21, tzinfo=timezone.utc))
    assert run_cli(["failures", "list", *conn, "--json"]) == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[kkey]["source"] == "kinesis" and rows[dkey]["source"] == "dynamodb"
    assert rows[kkey]["sequence_range"] == ["7", "7"] and rows[kkey]["shard"] == SHARD
    assert run_cli(["failures", "list", *conn, "--match", "partitionKey=order-7", "--json"]) == 0
    assert [r["key"] for r in json.loads(capsys.readouterr().out)] == [kkey]
    assert run_cli(["failures", "list", *conn]) == 0
    table = capsys.readouterr().out
    assert "kinesis" in table and "dynamodb" in table
    assert run_cli(["failures", "show", kkey, *conn]) == 0
    shown = capsys.readouterr().out
    assert "source: kinesis" in shown and "partitionKey=order-7" in shown and "aws:kinesis:record" in shown
    assert run_cli(["failures", "show", kkey, *conn, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["envelope"]["KinesisBatchInfo"]["shardId"] == SHARD
    assert base64.b64decode(out["payload_records"][0]["kinesis"]["data"]) == b'{"n":7}'


def test_cli_replay_target_kinesis(aws, conn, capsys):
    put_kinesis_failure(aws.client("s3"), [(1, "a", {"n": 1})])
    name = stream(aws)
    assert run_cli(["replay", *conn, "--target", "kinesis", "--stream", name, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"would-replay": 1}
    assert stream_contents(aws, name) == []
    assert run_cli(["replay", *conn, "--target", "kinesis", "--stream", name, "--execute", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"replayed": 1}
    assert stream_contents(aws, name) == [("a", b'{"n":1}')]
    assert run_cli(["replay", *conn, "--target", "kinesis"]) == 2
    assert "--target kinesis needs --stream" in capsys.readouterr().err
    assert run_cli(["replay", *conn, "--target", "kinesis", "--stream", "absent"]) == 2
    assert "Kinesis stream 'absent' does not exist" in capsys.readouterr().err


def test_failure_filters_shard_applies_to_kinesis_batch_info(aws):
    s3 = aws.client("s3")
    put_kinesis_failure(s3, [(1, "a", 1)])
    store = FailureStore(s3, BUCKET)
    assert len(store.list(FailureFilters(shard=SHARD))) == 1
    assert store.list(FailureFilters(shard="shardId-000000000009")) == []
