"""`harness simulate` with a `faults` list: the oracle models every injected fault with the same
rules the local runtime applies (harness.fault_rules). Each test names its spec section."""

from __future__ import annotations

import pytest

from harness.esm.simulate import SimulationSpecError, run_simulation

DEST = {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::failures"}}}


def _sim(faults, **mapping):
    m = {"BatchSize": 4, "MaximumRetryAttempts": 2, "BisectBatchOnFunctionError": True, **DEST, **mapping}
    return run_simulation({"mapping": m, "records": 8, "faults": faults})


def _calls(out):
    return [(i["records"], i["result"]) for i in out["invocations"]]


def test_error_fault_on_one_item_is_isolated_by_bisect_and_retried_spec_2_1_and_0_2():
    out = _sim([{"fault": "error", "items": [5]}])
    assert out["destination"][0]["records"] == [5]
    assert out["destination"][0]["envelope"]["requestContext"]["approximateInvokeCount"] == 3  # spec 0.2: 1 + 2
    assert out["processed"] == [0, 1, 2, 3, 4, 6, 7]


def test_error_fault_with_times_ends_processed_spec_1():
    out = _sim([{"fault": "error", "items": [5], "times": 2}])
    assert out["destination"] == [] and out["processed"] == list(range(8))
    assert out["faults_applied"] == [{"fault_index": 0, "fault": "error", "invocations": 2}]


def test_throttle_fault_is_retried_and_never_counted_spec_1():
    """Spec 1: throttles "where the batch didn't reach the function" do not use the retry quota:
    five throttles with MaximumRetryAttempts 0 still end with the batch processed."""
    out = _sim([{"fault": "throttle", "items": [5], "times": 5}], MaximumRetryAttempts=0)
    assert [c for c in _calls(out) if c[1] == "service_error"] == [([4, 5, 6, 7], "service_error")] * 5
    assert out["processed"] == list(range(8)) and out["destination"] == []


@pytest.mark.parametrize("kind", ["timeout", "crash"])
def test_timeout_and_crash_faults_are_unhandled_function_errors_spec_1_and_3_2(kind):
    out = _sim([{"fault": kind, "items": [2]}])
    env = out["destination"][0]["envelope"]
    assert out["destination"][0]["records"] == [2] and env["responseContext"]["functionError"] == "Unhandled"


def test_latency_past_the_timeout_is_a_timeout_and_below_it_changes_nothing_spec_1():
    short = run_simulation({"mapping": {"BatchSize": 8, **DEST}, "records": 8, "handler": {"timeout_s": 3},
                            "faults": [{"fault": "latency", "latency_ms": 500}]})
    assert short["processed"] == list(range(8)) and short["destination"] == []
    late = run_simulation({"mapping": {"BatchSize": 8, "MaximumRetryAttempts": 0, **DEST}, "records": 8,
                           "handler": {"timeout_s": 3}, "faults": [{"fault": "latency", "latency_ms": 3000}]})
    assert late["destination"][0]["records"] == list(range(8))


def test_partial_fault_checkpoints_at_the_selected_record_spec_0_3_and_2_2():
    out = _sim([{"fault": "partial", "match": {"dynamodb": {"NewImage": {"id": {"N": ["6"]}}}}}],
               FunctionResponseTypes=["ReportBatchItemFailures"], BisectBatchOnFunctionError=False)
    assert out["destination"][0]["records"] == [6, 7]  # spec 0.3: the suffix from the checkpoint
    assert out["processed"] == [0, 1, 2, 3, 4, 5]


def test_after_handler_error_runs_the_scripted_handler_first_spec_1():
    out = _sim([{"fault": "error", "items": [0], "after_handler": True, "times": 1}])
    assert _calls(out)[0] == ([0, 1, 2, 3], "function_error") and out["processed"] == list(range(8))


def test_destination_unavailable_drops_what_the_destination_refuses_spec_7_3():
    out = _sim([{"fault": "error", "items": [1, 6]}, {"destination": "unavailable", "times": 1}])
    assert out["dropped"] == [1]  # the first delivery refused: counted dropped (spec 7.3 default)
    assert [d["records"] for d in out["destination"]] == [[6]]
    assert out["metrics"]["DestinationDeliveryFailures"] == 1


def test_a_bad_fault_names_the_fault_and_the_field():
    with pytest.raises(SimulationSpecError, match=r"faults\[1\]: field 'latency_ms'"):
        _sim([{"fault": "error"}, {"fault": "latency"}])
    with pytest.raises(SimulationSpecError, match=r"faults\[0\]: field 'items'"):
        _sim([{"fault": "error", "items": [99]}])
    with pytest.raises(SimulationSpecError, match=r"faults\[0\]: field 'colour'"):
        _sim([{"fault": "error", "colour": "red"}])
