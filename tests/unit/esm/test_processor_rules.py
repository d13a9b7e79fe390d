"""The failure state machine, rule by rule, each named after its spec section."""

from __future__ import annotations

import json

import pytest

from harness.esm.config import EngineSettings
from harness.esm.destinations import InMemoryDestinations
from harness.invoke import InvokeResult, InvokeServiceError

SQS = "arn:aws:sqs:us-east-1:123456789012:failures"
S3 = "arn:aws:s3:::failures"
RBIF = ["ReportBatchItemFailures"]


def dest(arn=SQS):
    return {"DestinationConfig": {"OnFailure": {"Destination": arn}}}


def test_spec9_1_always_fail_invoked_n_plus_1_times_then_one_destination_record(h):
    """Spec 9.1 / 0.2: retries=N -> N+1 identical invocations, approximateInvokeCount N+1."""
    for n in (1, 2, 3):
        run = h.run({"BatchSize": 4, "MaximumRetryAttempts": n, **dest()}, 4, lambda idx, c: h.unhandled())
        assert run.calls == [[0, 1, 2, 3]] * (n + 1)
        [env] = run.deliveries()
        assert env["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert env["requestContext"]["approximateInvokeCount"] == n + 1
        assert env["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
        assert env["DDBStreamBatchInfo"]["batchSize"] == 4


def test_spec0_3_partial_batch_aws_observed_case_reproduced_exactly(h):
    """Spec 0.3: BatchSize=3, retries=3, 6th record always reported failed -> delivered 5 times
    (once in a batch of 3, then 4 times alone); envelope count 4, batchSize 1, functionError null."""
    def respond(idx, c):
        return h.ok({"batchItemFailures": [{"itemIdentifier": h.seq_of(5)}] if 5 in idx else []})

    run = h.run({"BatchSize": 3, "MaximumRetryAttempts": 3, "FunctionResponseTypes": RBIF, **dest()}, 6, respond)
    assert run.calls == [[0, 1, 2], [3, 4, 5], [5], [5], [5], [5]]
    assert sum(5 in c for c in run.calls) == 5
    [env] = run.deliveries()
    assert env["requestContext"]["approximateInvokeCount"] == 4
    assert env["DDBStreamBatchInfo"]["batchSize"] == 1
    assert env["DDBStreamBatchInfo"]["startSequenceNumber"] == h.seq_of(5)
    assert env["responseContext"]["functionError"] is None
    assert list(env) == ["requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"]


@pytest.mark.parametrize("body", [{"batchItemFailures": []}, {"batchItemFailures": None}, {}, None, "", []])
def test_spec2_3_success_responses_commit_the_batch(h, body):
    run = h.run({"BatchSize": 3, "MaximumRetryAttempts": 2, "FunctionResponseTypes": RBIF, **dest()}, 3,
                lambda idx, c: h.ok(body))
    assert run.calls == [[0, 1, 2]] and run.deliveries() == []
    assert run.journal.entries("checkpoint")[-1]["sequence_number"] == h.seq_of(2)


def test_spec2_3_empty_payload_bytes_is_a_null_response_success(h):
    run = h.run({"FunctionResponseTypes": RBIF, "MaximumRetryAttempts": 0}, 2, lambda idx, c: InvokeResult(200, b"", None, "r"))
    assert run.calls == [[0, 1]] and run.metrics["FailedInvokeEventCount"] == 0


@pytest.mark.parametrize("item", [{"itemIdentifier": ""}, {"itemIdentifier": None}, {"foo": 123},
                                  {"itemIdentifier": "123"}, {"itemIdentifier": 123}])
def test_spec2_3_malformed_identifiers_fail_the_whole_batch_counted_function_error_null(h, item):
    run = h.run({"BatchSize": 3, "MaximumRetryAttempts": 2, "FunctionResponseTypes": RBIF, **dest()}, 3,
                lambda idx, c: h.ok({"batchItemFailures": [item]}))
    assert run.calls == [[0, 1, 2]] * 3  # counted: 1 + 2 retries
    [env] = run.deliveries()
    assert env["responseContext"]["functionError"] is None
    assert env["requestContext"]["approximateInvokeCount"] == 3
    assert env["DDBStreamBatchInfo"]["batchSize"] == 3


def test_spec2_2_response_ignored_without_report_batch_item_failures(h):
    run = h.run({"BatchSize": 3, "MaximumRetryAttempts": 0, **dest()}, 3,
                lambda idx, c: h.ok({"batchItemFailures": [{"itemIdentifier": h.seq_of(0)}]}))
    assert run.calls == [[0, 1, 2]] and run.deliveries() == []


def test_spec2_2_checkpoint_at_lowest_failed_sequence_number_and_suffix_resent(h):
    def respond(idx, c):
        if c == 1:
            return h.ok({"batchItemFailures": [{"itemIdentifier": h.seq_of(3)}, {"itemIdentifier": h.seq_of(1)}]})
        return h.ok(None)

    run = h.run({"BatchSize": 5, "FunctionResponseTypes": RBIF}, 5, respond)
    assert run.calls == [[0, 1, 2, 3, 4], [1, 2, 3, 4]]
    cps = [e["sequence_number"] for e in run.journal.entries("checkpoint")]
    assert cps == [h.seq_of(0), h.seq_of(4)]


def test_spec2_1_bisect_splits_without_consuming_retries_first_half_first(h):
    """Spec 2.1: split on every function error while > 1 record, halves in order; retries=0 still bisects."""
    run = h.run({"BatchSize": 5, "MaximumRetryAttempts": 0, "BisectBatchOnFunctionError": True, **dest()}, 5,
                lambda idx, c: h.unhandled() if 3 in idx else h.ok())
    assert run.calls == [[0, 1, 2, 3, 4], [0, 1, 2], [3, 4], [3], [4]]
    [env] = run.deliveries()
    assert env["DDBStreamBatchInfo"]["startSequenceNumber"] == h.seq_of(3)
    assert env["requestContext"]["approximateInvokeCount"] == 1
    assert [e["reason"] for e in run.journal.entries("split")] == ["function_error", "function_error"]


def test_spec2_1_gap_floor_split_and_retry_before_split_are_configurable(h):
    s = EngineSettings(first_half_larger=False, split_on_every_error=False)
    run = h.run({"BatchSize": 3, "MaximumRetryAttempts": 1, "BisectBatchOnFunctionError": True, **dest()}, 3,
                lambda idx, c: h.unhandled() if 2 in idx else h.ok(), settings=s)
    # the batch uses its retry first, then splits 1|2; [1,2] retries then splits again.
    assert run.calls == [[0, 1, 2], [0, 1, 2], [0], [1, 2], [1, 2], [1], [2], [2]]
    assert [e["DDBStreamBatchInfo"]["startSequenceNumber"] for e in run.deliveries()] == [h.seq_of(2)]


def test_spec2_1_consolidated_destination_record_when_configured(h):
    s = EngineSettings(consolidate_bisect_failures=True)
    run = h.run({"BatchSize": 4, "MaximumRetryAttempts": 0, "BisectBatchOnFunctionError": True, **dest()}, 4,
                lambda idx, c: h.unhandled() if set(idx) & {2, 3} else h.ok(), settings=s)
    [env] = run.deliveries()
    assert env["DDBStreamBatchInfo"]["batchSize"] == 2
    assert (env["DDBStreamBatchInfo"]["startSequenceNumber"], env["DDBStreamBatchInfo"]["endSequenceNumber"]) == (h.seq_of(2), h.seq_of(3))


def test_spec2_4_bisect_with_partial_response_bisects_at_the_checkpoint(h):
    def respond(idx, c):
        return h.ok({"batchItemFailures": [{"itemIdentifier": h.seq_of(4)}]} if 4 in idx else {})

    run = h.run({"BatchSize": 6, "MaximumRetryAttempts": 0, "BisectBatchOnFunctionError": True,
                 "FunctionResponseTypes": RBIF, **dest()}, 6, respond)
    assert run.calls[:2] == [[0, 1, 2, 3, 4, 5], [4, 5]]  # not a 50/50 split
    [env] = run.deliveries()
    assert env["DDBStreamBatchInfo"]["batchSize"] == 2  # the suffix from the failed record on


def test_spec2_4_failed_invocation_bisected_regardless_of_partial_setting(h):
    run = h.run({"BatchSize": 4, "MaximumRetryAttempts": 0, "BisectBatchOnFunctionError": True,
                 "FunctionResponseTypes": RBIF, **dest()}, 4, lambda idx, c: h.unhandled() if 0 in idx else h.ok({}))
    assert run.calls == [[0, 1, 2, 3], [0, 1], [0], [1], [2, 3]]


def test_spec1_service_errors_retried_without_counting(h):
    """Spec 1 / 0.1: throttles never count against MaximumRetryAttempts."""
    def respond(idx, c):
        if c <= 5:
            return InvokeServiceError("Rate exceeded", throttled=True)
        return h.unhandled()

    run = h.run({"MaximumRetryAttempts": 1, **dest()}, 2, respond)
    assert len(run.calls) == 7  # 5 throttled + 2 counted invocations
    [env] = run.deliveries()
    assert env["requestContext"]["approximateInvokeCount"] == 2
    results = run.journal.entries("invoke_result")
    assert [r["counted"] for r in results] == [False] * 5 + [True, True]


def test_spec1_infinite_retries_block_the_shard_until_record_age_ends_it(h):
    """Spec 1, 3.3: -1 retries + age 60: blocked until expiry; RecordAgeExceeded, no responseContext.
    The default backoff reproduces AWS-OBS's 8 invocations before the 60 s age limit."""
    run = h.run({"BatchSize": 2, "MaximumRecordAgeInSeconds": 60, **dest()}, 2, lambda idx, c: h.unhandled())
    assert len(run.calls) == 8
    [env] = run.deliveries()
    assert env["requestContext"]["condition"] == "RecordAgeExceeded"
    assert "responseContext" not in env
    assert env["requestContext"]["approximateInvokeCount"] == 8


def test_spec1_record_age_discards_only_the_expired_prefix_fresh_records_invoked(h):
    """AWS-OBS: BatchSize=10, retries 0, first record expired -> destination batchSize 1, rest invoked."""
    run = h.run({"BatchSize": 10, "MaximumRetryAttempts": 0, "MaximumRecordAgeInSeconds": 60, **dest()}, 10,
                lambda idx, c: h.ok(), interval=30, delay=300)
    # arrivals t=0,30..270, processing starts at t=300: ages 300..30 -> records 0..7 are > 60 s old
    [env] = run.deliveries()
    assert env["requestContext"]["condition"] == "RecordAgeExceeded"
    assert env["requestContext"]["approximateInvokeCount"] == 1  # never invoked
    assert "responseContext" not in env
    assert env["DDBStreamBatchInfo"]["batchSize"] == 8
    assert run.calls == [[8, 9]]


def test_spec1_end_of_retries_without_destination_drops_and_moves_on(h):
    run = h.run({"BatchSize": 1, "MaximumRetryAttempts": 0}, 3, lambda idx, c: h.unhandled() if idx == [1] else h.ok())
    assert run.calls == [[0], [1], [2]]
    assert run.metrics["DroppedEventCount"] == 1
    [d] = run.journal.entries("dropped")
    assert d["sequence_numbers"] == [h.seq_of(1)] and d["condition"] == "RetryAttemptsExhausted"
    assert run.journal.entries("checkpoint")[-1]["sequence_number"] == h.seq_of(2)


def test_spec8_retention_trims_records_of_a_forever_blocked_shard(h):
    run = h.run({"BatchSize": 1}, 2, lambda idx, c: h.unhandled() if idx == [0] else h.ok(), interval=50_000)
    [d] = run.journal.entries("dropped")
    assert d["sequence_numbers"] == [h.seq_of(0)] and run.deliveries() == []
    assert d["reason"] == "trimmed by stream retention" and run.metrics["DroppedEventCount"] == 0
    assert run.calls[-1] == [1]


def test_spec7_3_destination_failure_counted_dropped_shard_not_blocked(h):
    d = InMemoryDestinations(fail_arns={SQS})
    run = h.run({"BatchSize": 1, "MaximumRetryAttempts": 0, **dest()}, 2,
                lambda idx, c: h.unhandled() if idx == [0] else h.ok(), destinations=d)
    assert run.metrics["DestinationDeliveryFailures"] == 1 and run.metrics["DroppedEventCount"] == 1
    assert run.calls == [[0], [1]]
    assert run.journal.entries("destination_failure")[0]["sequence_numbers"] == [h.seq_of(0)]


def test_spec7_3_fifo_destination_fails_delivery(h):
    fifo = "arn:aws:sqs:us-east-1:123456789012:q.fifo"
    run = h.run({"BatchSize": 1, "MaximumRetryAttempts": 0, **dest(fifo)}, 1, lambda idx, c: h.unhandled())
    assert run.metrics["DestinationDeliveryFailures"] == 1 and "FIFO" in run.journal.entries("destination_failure")[0]["error"]


def test_spec7_3_blocking_on_destination_failure_is_configurable(h):
    d = InMemoryDestinations(fail_arns={SQS})
    calls = {"n": 0}
    orig = d.deliver

    def flaky(failure):
        calls["n"] += 1
        if calls["n"] == 3:
            d.fail_arns.clear()
        return orig(failure)

    d.deliver = flaky
    run = h.run({"BatchSize": 1, "MaximumRetryAttempts": 0, **dest()}, 1, lambda idx, c: h.unhandled(),
                settings=EngineSettings(block_on_destination_failure=True), destinations=d)
    assert run.metrics["DestinationDeliveryFailures"] == 2 and len(run.deliveries()) == 1
    assert run.metrics["DroppedEventCount"] == 0


def test_spec3_2_s3_destination_payload_string_sorted_keys_and_key_layout(h):
    run = h.run({"BatchSize": 2, "MaximumRetryAttempts": 0, **dest(S3)}, 2, lambda idx, c: h.unhandled())
    [delivery] = run.dest.deliveries
    body = json.loads(delivery.body)
    assert list(body) == sorted(body) == ["DDBStreamBatchInfo", "payload", "requestContext", "responseContext", "timestamp", "version"]
    assert list(body["requestContext"]) == sorted(body["requestContext"])
    assert isinstance(body["payload"], str)
    records = json.loads(body["payload"])["Records"]
    assert list(records[0]) == ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"]
    ts = body["timestamp"]
    import re
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", ts)
    date, time_ = ts[:10], ts[11:19].replace(":", ".")
    assert delivery.key.startswith(f"aws/lambda/11111111-2222-3333-4444-555555555555/{h.SHARD}/{date.replace('-', '/')}/{date}T{time_}-")
    info = body["DDBStreamBatchInfo"]
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", info["approximateArrivalOfFirstRecord"])
    assert info["streamArn"] == h.STREAM and info["shardId"] == h.SHARD


def test_checkpoint_never_passes_an_unfinished_record_at_least_once(h):
    """Architecture: the checkpoint moves only past succeeded, filtered or handed-off records."""
    run = h.run({"BatchSize": 4, "MaximumRetryAttempts": 1, "BisectBatchOnFunctionError": True, **dest()}, 8,
                lambda idx, c: h.unhandled() if 5 in idx else h.ok())
    done: set[int] = set()
    for e in run.journal.entries():
        if e["kind"] == "invoke_result":
            done |= {h.index_of(s) for s in e["committed_sequence_numbers"]}
        elif e["kind"] in ("destination_write", "dropped"):
            done |= {h.index_of(s) for s in e["sequence_numbers"]}
        elif e["kind"] == "checkpoint":
            assert set(range(h.index_of(e["sequence_number"]) + 1)) <= done, e


def test_spec7_2_metrics_counts(h):
    run = h.run({"BatchSize": 2, "MaximumRetryAttempts": 1, **dest(),
                 "FilterCriteria": {"Filters": [{"Pattern": json.dumps({"dynamodb": {"Keys": {"pk": {"S": [{"anything-but": "k3"}]}}}})}]}},
                4, lambda idx, c: h.unhandled() if 2 in idx else h.ok())
    m = run.metrics
    assert m["PolledEventCount"] == 4 and m["FilteredOutEventCount"] == 1
    assert run.calls == [[0, 1], [2], [2]]
    assert m["InvokedEventCount"] == 4 and m["FailedInvokeEventCount"] == 2
    assert m["OnFailureDestinationDeliveredEventCount"] == 1 and m["DroppedEventCount"] == 0
    assert m["IteratorAge"] >= 0
    # the filtered record (k3) is covered by the checkpoint
    assert run.journal.entries("checkpoint")[-1]["sequence_number"] == h.seq_of(3)


def test_journal_is_complete_every_kind_carries_mapping_shard_and_sequence_numbers(h):
    """Reports and audits read only the journal: each kind the brief lists appears with its ids."""
    d = InMemoryDestinations(fail_arns=set())
    pattern = json.dumps({"dynamodb": {"Keys": {"pk": {"S": [{"anything-but": "k7"}]}}}})

    def respond(idx, c):
        return h.unhandled() if 2 in idx or 5 in idx else h.ok()

    run = h.run({"BatchSize": 4, "MaximumRetryAttempts": 0, "BisectBatchOnFunctionError": True, **dest(),
                 "FilterCriteria": {"Filters": [{"Pattern": pattern}]}}, 8, respond, destinations=d)
    d.fail_arns.add(SQS)
    kinds = {e["kind"] for e in run.journal.entries()}
    assert {"batch_formed", "invoked", "invoke_result", "split", "checkpoint", "filtered", "destination_write"} <= kinds
    for e in run.journal.entries():
        assert e["uuid"] == "11111111-2222-3333-4444-555555555555" and e["shard_id"] == h.SHARD
        assert e.get("sequence_numbers") or e.get("sequence_number") or e.get("first"), e
        if e["kind"] in ("invoked", "invoke_result"):
            assert e["attempt"] >= 1
    run2 = h.run({"BatchSize": 1, "MaximumRetryAttempts": 0, **dest()}, 1, lambda i, c: h.unhandled(),
                 destinations=InMemoryDestinations(fail_arns={SQS}))
    assert {"destination_failure", "dropped"} <= {e["kind"] for e in run2.journal.entries()}
