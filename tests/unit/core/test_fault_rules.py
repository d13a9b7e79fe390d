"""The fault rules (harness.fault_rules): which invocation a fault applies to, `times`, outages,
and which items end up poison for the judge."""

from __future__ import annotations

import pytest

from harness.esm.fault_records import item_identifier, record_matcher
from harness.fault_rules import FaultPlan, FaultSpecError, OutageGate, always_failed_items, parse_faults


def _rec(i: int, status: str = "ok") -> dict:
    return {"eventID": f"e{i}", "dynamodb": {"SequenceNumber": str(100 + i), "NewImage": {"status": {"S": status}}}}


def _plan(entries):
    faults, _ = parse_faults(entries, "f.yaml")
    return FaultPlan(faults, matcher=record_matcher, item_of=lambda r: int(r["eventID"][1:]),
                     identifier=item_identifier)


def test_times_counts_matching_invocations_only_then_the_next_fault_applies():
    plan = _plan([{"fault": "error", "items": [2], "times": 2}, {"fault": "partial", "items": [2]}])
    assert plan.decide("f", [_rec(0), _rec(1)]) is None  # not selected: not counted
    kinds = [plan.decide("f", [_rec(1), _rec(2)]).kind for _ in range(3)]
    assert kinds == ["error", "error", "partial"]
    assert plan.used() == {0: 2, 1: 1}


def test_match_selects_records_by_a_lambda_filter_pattern_spec_7_4():
    plan = _plan([{"fault": "partial", "match": {"dynamodb": {"NewImage": {"status": {"S": ["bad"]}}}}}])
    action = plan.decide("f", [_rec(0), _rec(1, "bad"), _rec(2)])
    assert action.positions == (1,) and action.identifiers == ("101",)


def test_function_limits_a_fault_to_that_function():
    plan = _plan([{"fault": "error", "function": "other"}])
    assert plan.decide("consumer", [_rec(0)]) is None
    assert plan.decide("other", []).kind == "error"


def test_outage_gate_refuses_the_first_n_deliveries_or_for_n_seconds_spec_7_3():
    _, outages = parse_faults([{"destination": "unavailable", "times": 2}], "f")
    gate = OutageGate(outages, now=lambda: 0.0)
    assert [gate.refuses() is not None for _ in range(3)] == [True, True, False]
    t = [100.0]
    _, outages = parse_faults([{"destination": "unavailable", "seconds": 5}], "f")
    gate = OutageGate(outages, now=lambda: t[0])
    assert gate.refuses() is not None
    t[0] = 105.0
    assert gate.refuses() is None


def test_items_failed_on_every_attempt_are_poison_those_with_times_are_not():
    faults, _ = parse_faults([{"fault": "error", "items": [1]}, {"fault": "timeout", "items": [2], "times": 1},
                              {"fault": "latency", "items": [3], "latency_ms": 5},
                              {"fault": "crash", "function": "handler", "items": [4]}], "f")
    assert always_failed_items(faults, 5, function="consumer") == [1]


@pytest.mark.parametrize("entry, field", [
    ({"fault": "explode"}, "fault"), ({"fault": "error", "items": "3"}, "items"),
    ({"fault": "error", "items": [1], "match": {"a": [1]}}, "match"), ({"fault": "error", "times": 0}, "times"),
    ({"fault": "throttle", "after_handler": True}, "after_handler"), ({"fault": "timeout", "message": "x"}, "message"),
    ({"destination": "down"}, "destination"), ({"destination": "unavailable", "times": 1, "seconds": 2}, "seconds"),
    ({"fault": "error", "funtion": "x"}, "funtion"),
])
def test_a_bad_entry_is_refused_naming_the_file_the_fault_and_the_field(entry, field):
    with pytest.raises(FaultSpecError) as info:
        parse_faults([{"fault": "error"}, entry], "scenarios/x.yaml")
    assert str(info.value).startswith("scenarios/x.yaml: faults[1]: field ") and f"'{field}'" in str(info.value)
