"""`run_simulation`: spec handling, handler modes, and the conservation property."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from harness.esm import SimulationSpecError, run_simulation

RBIF = ["ReportBatchItemFailures"]
S3 = {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::failures"}}}


def test_spec0_3_aws_observed_partial_case_through_simulate():
    out = run_simulation({"mapping": {"BatchSize": 3, "MaximumRetryAttempts": 3, "FunctionResponseTypes": RBIF, **S3},
                          "records": 6, "handler": {"fail": [5], "mode": "partial"}})
    assert [i["records"] for i in out["invocations"]] == [[0, 1, 2], [3, 4, 5], [5], [5], [5], [5]]
    [d] = out["destination"]
    env = d["envelope"]
    assert d["records"] == [5]
    assert env["requestContext"]["approximateInvokeCount"] == 4 and env["DDBStreamBatchInfo"]["batchSize"] == 1
    assert env["responseContext"]["functionError"] is None
    assert isinstance(env["payload"], str) and re.match(r"^aws/lambda/[0-9a-f-]{36}/shardId-[^/]+/\d{4}/\d\d/\d\d/", d["key"])
    assert out["processed"] == [0, 1, 2, 3, 4] and out["discarded"] == [5]


def test_spec2_1_raise_with_bisect_isolates_the_poison_record():
    out = run_simulation({"mapping": {"BatchSize": 8, "MaximumRetryAttempts": 0, "BisectBatchOnFunctionError": True, **S3},
                          "records": 8, "handler": {"fail": [6], "mode": "raise"}})
    assert [d["records"] for d in out["destination"]] == [[6]]
    assert out["destination"][0]["envelope"]["responseContext"]["functionError"] == "Unhandled"
    assert out["processed"] == [0, 1, 2, 3, 4, 5, 7]


def test_spec2_2_and_2_4_partial_or_raise_reports_partially_and_raises_when_every_record_failed():
    """Powertools' BatchProcessor default: batchItemFailures while some records succeed, an error
    once every record of the batch failed; with bisect the error splits the batch (spec 2.4)."""
    out = run_simulation({"mapping": {"BatchSize": 4, "MaximumRetryAttempts": 1, "FunctionResponseTypes": RBIF,
                                      "BisectBatchOnFunctionError": True, **S3},
                          "records": 4, "handler": {"fail": [2, 3], "mode": "partial-or-raise"}})
    results = [(i["records"], i["result"]) for i in out["invocations"]]
    assert results[0] == ([0, 1, 2, 3], "partial_failure")  # 0 and 1 succeeded: a partial response
    assert results[1] == ([2, 3], "function_error")  # every record failed: it raises, and bisect splits
    assert sorted(d["records"] for d in out["destination"]) == [[2], [3]]
    assert {d["envelope"]["responseContext"]["functionError"] for d in out["destination"]} == {"Unhandled"}
    assert out["processed"] == [0, 1]


def test_timeout_mode_is_an_unhandled_function_error():
    out = run_simulation({"mapping": {"BatchSize": 2, "MaximumRetryAttempts": 1, **S3}, "records": 2,
                          "handler": {"fail": [0], "mode": "timeout"}})
    assert [i["result"] for i in out["invocations"]] == ["function_error"] * 2
    assert out["invocations"][0]["function_error"] == "Unhandled"
    assert out["destination"][0]["records"] == [0, 1]


def test_spec2_3_partial_malformed_fails_whole_batch_with_null_function_error():
    out = run_simulation({"mapping": {"BatchSize": 3, "MaximumRetryAttempts": 2, "FunctionResponseTypes": RBIF, **S3},
                          "records": 3, "handler": {"fail": [1], "mode": "partial-malformed"}})
    assert [i["result"] for i in out["invocations"]] == ["invalid_response"] * 3
    env = out["destination"][0]["envelope"]
    assert env["responseContext"]["functionError"] is None and env["requestContext"]["approximateInvokeCount"] == 3


def test_fail_times_lets_a_record_succeed_on_a_later_delivery():
    out = run_simulation({"mapping": {"BatchSize": 1, "MaximumRetryAttempts": 5}, "records": 2,
                          "handler": {"fail": [0], "mode": "raise", "fail_times": 2}})
    assert [i["records"] for i in out["invocations"]] == [[0], [0], [0], [1]]
    assert out["processed"] == [0, 1] and out["discarded"] == []


def test_spec3_3_record_age_via_clock_spec():
    out = run_simulation({"mapping": {"BatchSize": 10, "MaximumRetryAttempts": 0, "MaximumRecordAgeInSeconds": 60, **S3},
                          "records": 10, "clock": {"start": 1_700_000_000, "record_interval_s": 30, "start_delay_s": 300}})
    [d] = out["destination"]
    assert d["condition"] == "RecordAgeExceeded" and "responseContext" not in d["envelope"]
    assert d["records"] == list(range(8)) and out["processed"] == [8, 9]


def test_no_destination_records_are_dropped_and_counted():
    out = run_simulation({"mapping": {"BatchSize": 5, "MaximumRetryAttempts": 0}, "records": 5,
                          "handler": {"fail": [2]}})
    assert out["destination"] == [] and out["dropped"] == [0, 1, 2, 3, 4]
    assert out["metrics"]["DroppedEventCount"] == 5


def test_records_as_items_and_filtering():
    items = [{"kind": "a", "n": 1}, {"kind": "b", "n": 2}, {"kind": "a", "n": 3}]
    pattern = '{"dynamodb": {"NewImage": {"kind": {"S": ["a"]}}}}'
    out = run_simulation({"mapping": {"FilterCriteria": {"Filters": [{"Pattern": pattern}]}}, "records": items})
    assert out["filtered"] == [1] and out["processed"] == [0, 2]
    assert out["metrics"]["FilteredOutEventCount"] == 1


def test_spec_7_4_nested_exists_false_filter_invokes_the_records_without_the_attribute():
    """Spec 7.4: CDK's FilterRule.notExists() on a nested attribute (`SkipMe.S` absent) keeps every
    record whose NewImage has no SkipMe. The oracle shares the engine's filter: a missing SkipMe
    object filtered everything out, and a scenario passed while nothing was invoked."""
    items = [{"id": "a"}, {"id": "b", "SkipMe": "yes"}, {"id": "c"}]
    pattern = '{"dynamodb": {"NewImage": {"SkipMe": {"S": [{"exists": false}]}}}}'
    out = run_simulation({"mapping": {"FilterCriteria": {"Filters": [{"Pattern": pattern}]}}, "records": items})
    assert out["processed"] == [0, 2] and out["filtered"] == [1]
    assert [i["records"] for i in out["invocations"]] == [[0, 2]]


def test_spec_8_and_1_every_drop_is_reported_with_its_cause():
    """Spec 8 (retention trims what unbounded retries hold back), spec 1 (record age and spent
    retries with no destination): `dropped_by_cause` names each dropped record's cause in the
    vocabulary of harness/esm/outcomes.py; `dropped` and `trimmed` keep their meaning."""
    blocked = run_simulation({"mapping": {}, "records": 3, "handler": {"fail": [1]}})
    assert blocked["dropped_by_cause"] == {"trimmed": [0, 1, 2]}
    assert blocked["trimmed"] == [0, 1, 2] and blocked["dropped"] == [] and blocked["processed"] == []
    aged = run_simulation({"mapping": {"MaximumRecordAgeInSeconds": 60, "BatchSize": 1}, "records": 3,
                           "handler": {"fail": [1]}})
    assert aged["dropped_by_cause"] == {"record_age": [1, 2]} and aged["processed"] == [0]
    spent = run_simulation({"mapping": {"MaximumRetryAttempts": 0}, "records": 2, "handler": {"fail": [1]}})
    assert spent["dropped_by_cause"] == {"retries_exhausted": [0, 1]} and spent["dropped"] == [0, 1]


def test_partial_mode_without_rbif_warns():
    out = run_simulation({"mapping": {}, "records": 2, "handler": {"fail": [0], "mode": "partial"}})
    assert out["processed"] == [0, 1] and "ReportBatchItemFailures" in out["warnings"][0]


@pytest.mark.parametrize("spec,match", [
    ({"records": -1}, "records must be between"),
    ({"records": "x"}, "records must be a count"),
    ({"records": [1]}, r"records\[0\]"),
    ({"records": 3, "handler": {"fail": [3]}}, r"handler.fail\[0\]"),
    ({"records": 3, "handler": {"mode": "explode"}}, "handler.mode"),
    ({"records": 3, "handler": {"fail_times": -1}}, "handler.fail_times"),
    ({"records": 3, "handler": {"oops": 1}}, "handler has unknown"),
    ({"records": 3, "mapping": {"MaximumRecordAgeInSeconds": 5}}, "mapping: InvalidParameterValueException: MaximumRecordAgeInSeconds"),
    ({"records": 3, "mapping": {"BatchSize": 0}}, "batchSize"),
    ({"records": 3, "clock": {"start": "now"}}, r"clock.start"),
    ({"records": 3, "engine": {"nope": 1}}, "engine.nope"),
    ({"records": 3, "shards": 0}, "shards must be between"),
    ({"records": 3, "shards": [{"parent": 0}]}, r"shards\[0\].parent"),
    ({"records": [{"$shard": 5}], "shards": 2}, r"records\[0\].\$shard"),
    ({"records": [{"$nope": 1}]}, r"records\[0\]: unknown field"),
    ({"records": 3, "keys": 0}, "keys must be"),
    ({"records": 3, "handler": {"aggregate": "sum"}}, "handler.aggregate"),
    ({"recs": 3}, "unknown top-level field"),
    ([], "JSON object"),
])
def test_bad_simulate_spec_names_the_field(spec, match):
    with pytest.raises(SimulationSpecError, match=match):
        run_simulation(spec)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(0, 60),
    batch=st.integers(1, 12),
    retries=st.integers(0, 3),
    bisect=st.booleans(),
    rbif=st.booleans(),
    mode=st.sampled_from(["raise", "partial", "partial-malformed", "timeout"]),
    fail_frac=st.floats(0, 0.4),
    fail_times=st.one_of(st.none(), st.integers(0, 4)),
    with_dest=st.booleans(),
    consolidate=st.booleans(),
    seed=st.randoms(use_true_random=False),
)
def test_property_every_record_ends_exactly_one_way(n, batch, retries, bisect, rbif, mode, fail_frac, fail_times,
                                                    with_dest, consolidate, seed):
    """Conservation: each record is processed, filtered, in a destination record, or dropped —
    exactly once; with bisect and retries exhausted the destination holds exactly the failing records."""
    fail = sorted(i for i in range(n) if seed.random() < fail_frac)
    mapping = {"BatchSize": batch, "MaximumRetryAttempts": retries, "BisectBatchOnFunctionError": bisect}
    if rbif:
        mapping["FunctionResponseTypes"] = RBIF
    if with_dest:
        mapping.update(S3)
    out = run_simulation({"mapping": mapping, "records": n, "handler": {"fail": fail, "mode": mode, "fail_times": fail_times},
                          "engine": {"consolidate_bisect_failures": consolidate}})
    in_dest = [i for d in out["destination"] for i in d["records"]]
    endings = out["processed"] + out["filtered"] + in_dest + out["dropped"] + out["trimmed"]
    assert sorted(endings) == list(range(n)), "a record was lost or ended twice"
    assert out["trimmed"] == []
    if not with_dest:
        assert in_dest == []
    for d in out["destination"]:
        info = d["envelope"]["DDBStreamBatchInfo"]
        assert info["batchSize"] == len(d["records"]) and d["records"] == sorted(d["records"])
    handler_ignored = mode.startswith("partial") and not rbif
    if handler_ignored:
        assert out["discarded"] == []
    elif bisect and mode in ("raise", "timeout", "partial-malformed") and fail_times is None:
        assert out["discarded"] == fail
    elif fail_times is not None and fail_times == 0:
        assert out["discarded"] == []
    if not handler_ignored and fail_times is None:
        assert set(out["discarded"]) >= set(fail)  # a record that always fails never counts as processed
    m = out["metrics"]
    assert m["PolledEventCount"] == n
    assert m["OnFailureDestinationDeliveredEventCount"] == len(in_dest)
    assert m["DroppedEventCount"] == len(out["dropped"])


def test_simulate_10k_is_fast():
    began = time.perf_counter()
    out = run_simulation({"mapping": {"BatchSize": 100, "MaximumRetryAttempts": 2, "BisectBatchOnFunctionError": True, **S3},
                          "records": 10_000, "handler": {"fail": list(range(0, 10_000, 100))}})
    assert time.perf_counter() - began < 2.0
    assert [d["records"][0] for d in out["destination"]] == list(range(0, 10_000, 100))


def test_output_times_are_virtual_seconds_spec_1_retry_cadence() -> None:
    """Each invocation, failure record and drop carries `t`, the virtual seconds since the start at
    which it happened; retries follow the backoff (spec 1 [GAP] default cadence: 1 s, then 2 s)."""
    from harness.esm import EngineSettings

    out = run_simulation({"mapping": {"BatchSize": 3, "MaximumRetryAttempts": 2}, "records": 3,
                          "handler": {"fail": [1], "mode": "raise"}})
    backoff = EngineSettings().backoff
    expected = [0.0, backoff.delay(1), backoff.delay(1) + backoff.delay(2)]
    assert [i["t"] for i in out["invocations"]] == pytest.approx(expected)
    assert out["drops"] == [{"records": [0, 1, 2], "condition": "RetryAttemptsExhausted", "reason": "no destination",
                             "shard": out["invocations"][0]["shard"], "t": pytest.approx(expected[-1])}]
    dest = run_simulation({"mapping": {"BatchSize": 3, "MaximumRetryAttempts": 0,
                                       "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:1:q"}}},
                           "records": 3, "clock": {"start_delay_s": 5}, "handler": {"fail": [1], "mode": "raise"}})
    assert [d["t"] for d in dest["destination"]] == [5.0] and dest["drops"] == []
