"""Replayer with each target on the embedded backend: dry run, ledger no-op, resume, order, loop guard."""

from __future__ import annotations

import json

import pytest

from harness.failures.store import FailureFilters, FailureStore
from harness.journal import Journal
from harness.invoke import InvokeResult, InvokeServiceError
from harness.replay import (REPLAYED_TAG, ConsumerTarget, Replayer, SqsTarget, TableTarget, TargetError)
from replay_objects import BUCKET, TABLE, put_failure, stream_record


class FakeInvoker:
    """Records every payload; can fail or crash after N successful invokes."""

    def __init__(self, *, fail_after: int | None = None, crash_after: int | None = None,
                 response: bytes = b"null", error: type[BaseException] = KeyboardInterrupt) -> None:
        self.payloads: list[dict] = []
        self.fail_after, self.crash_after, self.response, self.error = fail_after, crash_after, response, error

    def invoke(self, function_name: str, payload: bytes) -> InvokeResult:
        if self.crash_after is not None and len(self.payloads) >= self.crash_after:
            raise self.error("simulated crash")
        if self.fail_after is not None and len(self.payloads) >= self.fail_after:
            raise InvokeServiceError("throttled", throttled=True)
        self.payloads.append(json.loads(payload))
        return InvokeResult(200, self.response, None, f"req-{len(self.payloads)}")

    def seqs(self) -> list[str]:
        return [r["dynamodb"]["SequenceNumber"] for p in self.payloads for r in p["Records"]]


def _store(aws):
    return FailureStore(aws.client("s3"), BUCKET)


def _items(aws):
    return {i["pk"]["S"]: i for i in aws.client("dynamodb").scan(TableName=TABLE)["Items"]}


def _ledger_keys(aws):
    return [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="replay-ledger/").get("Contents", [])]


def _seq(n):
    return str(n).rjust(21, "0")


# -- consumer target -------------------------------------------------------------------------

def test_consumer_target_gets_original_event_shape_per_object(aws):
    s3 = aws.client("s3")
    recs = [stream_record(1, "a"), stream_record(2, "b"), stream_record(3, "c")]
    put_failure(s3, recs)
    put_failure(s3, [stream_record(9, "d")])
    inv = FakeInvoker()
    journal = Journal()
    summary = Replayer(_store(aws), ConsumerTarget(inv, "consumer"), execute=True, journal=journal).run()
    assert summary.ok and summary.count("replayed") == 4
    assert len(journal.entries("replay", outcome="replayed", target="consumer/consumer")) == 4
    assert inv.payloads[0] == {"Records": recs}  # the failed batch, unchanged
    assert [len(p["Records"]) for p in inv.payloads] == [3, 1]


def test_dry_run_changes_nothing(aws):
    s3 = aws.client("s3")
    key = put_failure(s3, [stream_record(1, "a"), stream_record(2, "b")])
    inv = FakeInvoker()
    events = []
    summary = Replayer(_store(aws), ConsumerTarget(inv, "consumer"), progress=events.append).run()
    assert summary.count("would-replay") == 2 and summary.ok
    assert [(e.done, e.total, e.result.outcome) for e in events] == [(1, 2, "would-replay"), (2, 2, "would-replay")]
    assert inv.payloads == []
    assert _ledger_keys(aws) == []
    assert s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"] == []
    table_summary = Replayer(_store(aws), TableTarget(aws.client("dynamodb"), TABLE)).run()
    assert table_summary.count("would-replay") == 2 and _items(aws) == {}
    assert "PutItem orders pk=a with replayOf=" in table_summary.results[0].detail


def test_second_replay_is_a_no_op_unless_forced(aws):
    s3 = aws.client("s3")
    key = put_failure(s3, [stream_record(1, "a"), stream_record(2, "b")])
    inv = FakeInvoker()
    first = Replayer(_store(aws), ConsumerTarget(inv, "consumer"), execute=True).run()
    assert first.count("replayed") == 2
    tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]}
    assert tags[REPLAYED_TAG].endswith("Z")
    assert _ledger_keys(aws) and all(x.ok for x in FailureStore(s3, BUCKET, prefix="").list())  # ledger not listed
    second = Replayer(_store(aws), ConsumerTarget(inv, "consumer"), execute=True).run()
    assert second.count("already-replayed") == 2 and second.count("replayed") == 0 and second.ok
    assert len(inv.payloads) == 1
    forced = Replayer(_store(aws), ConsumerTarget(inv, "consumer"), execute=True, force=True).run()
    assert forced.count("replayed") == 2 and len(inv.payloads) == 2
    # another target has its own ledger: replaying to SQS is not blocked by the consumer's ledger
    other = Replayer(_store(aws), ConsumerTarget(inv, "other-fn")).run()
    assert other.count("would-replay") == 2


def test_interrupted_replay_resumes_and_replays_each_record_exactly_once(aws):
    s3 = aws.client("s3")
    for base in (10, 20, 30, 40):
        put_failure(s3, [stream_record(base + i, f"k{base}-{i}") for i in range(3)])
    crashing = FakeInvoker(crash_after=2)
    with pytest.raises(KeyboardInterrupt):
        Replayer(_store(aws), ConsumerTarget(crashing, "consumer"), execute=True).run()
    resumed = FakeInvoker()
    summary = Replayer(_store(aws), ConsumerTarget(resumed, "consumer"), execute=True).run()
    assert summary.ok and summary.count("already-replayed") == 6 and summary.count("replayed") == 6
    every = crashing.seqs() + resumed.seqs()
    assert sorted(every) == sorted({_seq(b + i) for b in (10, 20, 30, 40) for i in range(3)})
    assert len(every) == len(set(every)) == 12


def test_failing_record_is_reported_run_continues_and_summary_fails(aws):
    s3 = aws.client("s3")
    for base in (10, 20, 30):
        put_failure(s3, [stream_record(base, f"k{base}")])
    inv = FakeInvoker(fail_after=1)
    summary = Replayer(_store(aws), ConsumerTarget(inv, "consumer"), execute=True).run()
    assert summary.count("replayed") == 1 and summary.count("failed") == 2
    assert not summary.ok and summary.exit_code == 1
    assert "not reached" in [r for r in summary.results if r.outcome == "failed"][0].detail
    # a re-run with a healthy function replays just the two that failed
    again = FakeInvoker()
    assert Replayer(_store(aws), ConsumerTarget(again, "consumer"), execute=True).run().count("replayed") == 2
    assert again.seqs() == [_seq(20), _seq(30)]


def test_unexpected_exception_fails_the_chunk_not_the_run(aws):
    s3 = aws.client("s3")
    put_failure(s3, [stream_record(1, "a")])
    put_failure(s3, [stream_record(2, "b")])
    summary = Replayer(_store(aws), ConsumerTarget(FakeInvoker(crash_after=0, error=RuntimeError), "consumer"),
                       execute=True).run()
    assert summary.count("failed") == 2 and "RuntimeError: simulated crash" in summary.results[0].detail


def test_section_2_2_partial_batch_response_fails_from_lowest_reported_sequence(aws):
    put_failure(aws.client("s3"), [stream_record(1, "a"), stream_record(2, "b"), stream_record(3, "c")])
    inv = FakeInvoker(response=json.dumps({"batchItemFailures": [{"itemIdentifier": _seq(2)}]}).encode())
    summary = Replayer(_store(aws), ConsumerTarget(inv, "consumer"), execute=True).run()
    assert [(r.seq, r.outcome) for r in summary.results] == [(_seq(1), "replayed"), (_seq(2), "failed"),
                                                             (_seq(3), "failed")]


def test_order_per_key_is_kept_across_objects(aws, minutes):
    s3 = aws.client("s3")
    # bisect consolidation can interleave ranges: object B (written first) holds a later change of "x"
    put_failure(s3, [stream_record(5, "x", "MODIFY"), stream_record(6, "y")], when=minutes(1))
    put_failure(s3, [stream_record(1, "x"), stream_record(3, "x", "MODIFY")], when=minutes(2))
    inv = FakeInvoker()
    Replayer(_store(aws), ConsumerTarget(inv, "consumer"), execute=True).run()
    x_order = [r["dynamodb"]["SequenceNumber"] for p in inv.payloads for r in p["Records"]
               if r["dynamodb"]["Keys"]["pk"]["S"] == "x"]
    assert x_order == [_seq(1), _seq(3), _seq(5)]


def test_failure_of_a_key_holds_back_its_later_records(aws):
    s3 = aws.client("s3")
    put_failure(s3, [stream_record(1, "x")])
    put_failure(s3, [stream_record(2, "y")])
    put_failure(s3, [stream_record(3, "x", "MODIFY")])

    class FailX(FakeInvoker):
        def invoke(self, function_name, payload):
            if json.loads(payload)["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] == "x":
                return InvokeResult(200, b'{"errorMessage":"boom"}', "Unhandled", "r")
            return super().invoke(function_name, payload)

    summary = Replayer(_store(aws), ConsumerTarget(FailX(), "consumer"), execute=True).run()
    assert [r.outcome for r in sorted(summary.results, key=lambda r: r.seq)] == ["failed", "replayed", "blocked"]


def test_a_refused_record_holds_back_only_the_later_records_of_its_item(aws):
    """The replayer's rule: an item's records BEFORE a refused one still go (it blocked them all)."""
    put_failure(aws.client("s3"), [stream_record(1, "a"), stream_record(2, "a", "MODIFY", view="KEYS_ONLY"),
                                   stream_record(3, "a", "MODIFY")])
    summary = Replayer(_store(aws), TableTarget(aws.client("dynamodb"), TABLE), execute=True).run()
    results = sorted(summary.results, key=lambda r: r.seq)
    assert [(r.seq, r.outcome) for r in results] == [(_seq(1), "replayed"), (_seq(2), "failed"), (_seq(3), "blocked")]
    assert f"#{_seq(2)}" in results[2].detail
    assert _items(aws)["a"]["replayOf"] == {"S": results[0].id}


def test_rate_limit_paces_records(aws):
    put_failure(aws.client("s3"), [stream_record(i, f"k{i}") for i in range(1, 7)])
    now = [0.0]
    slept: list[float] = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    Replayer(_store(aws), TableTarget(aws.client("dynamodb"), TABLE), execute=True, rate=2.0,
             clock=lambda: now[0], sleep=sleep).run()
    assert len(_items(aws)) == 6
    assert sum(slept) == pytest.approx(2.0)  # 3 chunks of 2 at 2 records/s: waits of 1 s and 1 s


# -- table target ----------------------------------------------------------------------------

def test_table_target_reputs_new_image_with_replay_marker(aws):
    s3 = aws.client("s3")
    key = put_failure(s3, [stream_record(1, "order#1", extra={"n": {"N": "3"}}),
                           stream_record(2, "order#1", "MODIFY", extra={"status": {"S": "paid"}})])
    summary = Replayer(_store(aws), TableTarget(aws.client("dynamodb"), TABLE), execute=True).run()
    assert summary.ok and summary.count("replayed") == 2
    item = _items(aws)["order#1"]
    assert item["status"] == {"S": "paid"}  # the later change won: order kept
    assert item["replayOf"] == {"S": f"{key}#{_seq(2)}"}


def test_table_target_refuses_records_that_are_replays_unless_forced(aws):
    s3 = aws.client("s3")
    put_failure(s3, [stream_record(1, "a", extra={"replayOf": {"S": "aws/lambda/old#1"}})])
    summary = Replayer(_store(aws), TableTarget(aws.client("dynamodb"), TABLE), execute=True).run()
    assert summary.count("skipped") == 1 and "replayOf=aws/lambda/old#1" in summary.results[0].detail
    assert _items(aws) == {}
    forced = Replayer(_store(aws), TableTarget(aws.client("dynamodb"), TABLE), execute=True, force=True).run()
    assert forced.count("replayed") == 1 and _items(aws)["a"]["replayOf"]["S"].endswith(f"#{_seq(1)}")


def test_table_target_remove_rule_skip_by_default_delete_on_request(aws):
    s3 = aws.client("s3")
    ddb = aws.client("dynamodb")
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "gone"}})
    put_failure(s3, [stream_record(1, "gone", "REMOVE")])
    skipped = Replayer(_store(aws), TableTarget(ddb, TABLE), execute=True).run()
    assert skipped.count("skipped") == 1 and "REMOVE event" in skipped.results[0].detail and skipped.ok
    assert "gone" in _items(aws)
    deleted = Replayer(_store(aws), TableTarget(ddb, TABLE, removes="delete"), execute=True).run()
    assert deleted.count("replayed") == 1 and "gone" not in _items(aws)


def test_table_target_names_bad_records_and_missing_table(aws):
    s3 = aws.client("s3")
    put_failure(s3, [stream_record(1, "a", view="KEYS_ONLY"), stream_record(2, "b")])
    summary = Replayer(_store(aws), TableTarget(aws.client("dynamodb"), TABLE), execute=True).run()
    assert [r.outcome for r in summary.results] == ["failed", "replayed"]
    assert "no NewImage (StreamViewType KEYS_ONLY)" in summary.results[0].detail
    with pytest.raises(TargetError, match="table 'missing' does not exist"):
        Replayer(_store(aws), TableTarget(aws.client("dynamodb"), "missing")).run()


def test_table_target_isolates_an_item_dynamodb_rejects(aws):
    s3 = aws.client("s3")
    put_failure(s3, [stream_record(1, "a"), stream_record(2, "b", extra={"bad": {"S": ""}, "pk": {"N": "1"}})])
    summary = Replayer(_store(aws), TableTarget(aws.client("dynamodb"), TABLE), execute=True).run()
    outcomes = {r.item_key: r.outcome for r in summary.results}
    assert outcomes["pk=a"] == "replayed" and outcomes["pk=b"] == "failed"
    assert "a" in _items(aws)


# -- SQS target ------------------------------------------------------------------------------

def test_sqs_target_one_message_per_record_fifo_grouped_by_item(aws):
    s3 = aws.client("s3")
    recs = [stream_record(1, "x"), stream_record(2, "y"), stream_record(3, "x", "MODIFY")]
    put_failure(s3, recs)
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="replay.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    summary = Replayer(_store(aws), SqsTarget(sqs, url), execute=True).run()
    assert summary.ok and summary.count("replayed") == 3
    got = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   AttributeNames=["MessageGroupId"]).get("Messages", [])
        if not msgs:
            break
        for m in msgs:
            got.append((m["Attributes"]["MessageGroupId"], json.loads(m["Body"])))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(body["dynamodb"]["SequenceNumber"] for _, body in got) == [_seq(1), _seq(2), _seq(3)]
    assert [b["dynamodb"]["SequenceNumber"] for g, b in got if g == "pk=x"] == [_seq(1), _seq(3)]
    assert {body["eventID"] for _, body in got} == {r["eventID"] for r in recs}  # body = the record JSON


def test_sqs_target_standard_queue_and_missing_queue(aws):
    put_failure(aws.client("s3"), [stream_record(1, "x")])
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="replay")["QueueUrl"]
    assert Replayer(_store(aws), SqsTarget(sqs, url), execute=True).run().count("replayed") == 1
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(msgs) == 1 and json.loads(msgs[0]["Body"])["eventName"] == "INSERT"
    with pytest.raises(TargetError, match="nope"):
        Replayer(_store(aws), SqsTarget(sqs, url.rsplit("/", 1)[0] + "/nope")).run()


# -- filters and malformed objects in a replay ---------------------------------------------

def test_replay_filters_by_match_and_reports_malformed_objects(aws):
    s3 = aws.client("s3")
    put_failure(s3, [stream_record(1, "order#1"), stream_record(2, "order#2")])
    s3.put_object(Bucket=BUCKET, Key="aws/lambda/garbage", Body=b"[]")
    inv = FakeInvoker()
    summary = Replayer(_store(aws), ConsumerTarget(inv, "consumer"), execute=True).run(
        FailureFilters(match={"pk": "order#2"}))
    assert inv.seqs() == [_seq(2)]
    assert summary.malformed and summary.malformed[0][0] == "aws/lambda/garbage"
    assert not summary.ok  # a failure object that could not be read is a failure of the run
