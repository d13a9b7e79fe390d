"""explore's grid: --set parsing, AWS's ranges (spec 1, spec 7.1), skipped combinations with reasons."""

from __future__ import annotations

import pytest

from harness.explore.grid import RBIF, GridError, check, combinations, default_sets, parse_sets

BASE = {"BatchSize": 100, "MaximumBatchingWindowInSeconds": 0, "ParallelizationFactor": 1,
        "MaximumRetryAttempts": 2, "MaximumRecordAgeInSeconds": -1, "BisectBatchOnFunctionError": False,
        "FunctionResponseTypes": [], "TumblingWindowInSeconds": 0, "DestinationConfig": "deployed"}


def test_parse_sets_types_each_parameter_as_the_api_does() -> None:
    sets = parse_sets(["BatchSize=10,100", "BisectBatchOnFunctionError=true,false",
                       "FunctionResponseTypes=none,ReportBatchItemFailures", "DestinationConfig=none,deployed"])
    assert sets == {"BatchSize": [10, 100], "BisectBatchOnFunctionError": [True, False],
                    "FunctionResponseTypes": [[], [RBIF]], "DestinationConfig": ["none", "deployed"]}


@pytest.mark.parametrize("flag, named", [
    ("BatchSize", "KEY=v1"), ("Batchsize=10", "'Batchsize' is not a mapping parameter"),
    ("BatchSize=ten", "value 'ten' is not an integer"), ("BisectBatchOnFunctionError=maybe", "not true or false"),
    ("DestinationConfig=sqs", "not one of none, deployed"), ("BatchSize=", "lists no value"),
])
def test_parse_sets_names_the_flag_and_value_at_fault(flag: str, named: str) -> None:
    with pytest.raises(GridError, match=named.replace("(", r"\(").replace("[", r"\[")):
        parse_sets([flag])


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(GridError, match="given twice"):
        parse_sets(["BatchSize=10", "BatchSize=20"])


@pytest.mark.parametrize("key, value, ok", [
    ("BatchSize", 0, False), ("BatchSize", 1, True), ("BatchSize", 10000, True), ("BatchSize", 10001, False),
    ("MaximumRetryAttempts", -2, False), ("MaximumRetryAttempts", -1, True), ("MaximumRetryAttempts", 10000, True),
    ("MaximumRetryAttempts", 10001, False),
    ("MaximumRecordAgeInSeconds", -1, True), ("MaximumRecordAgeInSeconds", 0, False),
    ("MaximumRecordAgeInSeconds", 59, False), ("MaximumRecordAgeInSeconds", 60, True),
    ("MaximumRecordAgeInSeconds", 604800, True), ("MaximumRecordAgeInSeconds", 604801, False),
    ("ParallelizationFactor", 0, False), ("ParallelizationFactor", 10, True), ("ParallelizationFactor", 11, False),
    ("TumblingWindowInSeconds", 900, True), ("TumblingWindowInSeconds", 901, False),
    ("MaximumBatchingWindowInSeconds", 300, True), ("MaximumBatchingWindowInSeconds", 301, False),
])
def test_aws_ranges_spec_1_and_7_1(key: str, value: int, ok: bool) -> None:
    reason = check({**BASE, key: value}, has_destination=True)
    assert (reason is None) == ok, reason
    if not ok:
        assert f"{key}={value}" in reason


def test_out_of_range_values_are_skipped_with_their_reason_not_refused() -> None:
    combos = combinations(BASE, parse_sets(["MaximumRecordAgeInSeconds=-1,30,3600"]), has_destination=True)
    by_age = {c.settings["MaximumRecordAgeInSeconds"]: c.skipped for c in combos}
    assert by_age[-1] is None and by_age[3600] is None
    assert "MaximumRecordAgeInSeconds=30 must be -1 (forever) or 60..604800" in by_age[30]


def test_deployed_destination_on_a_stack_without_one_is_skipped() -> None:
    combos = combinations({**BASE, "DestinationConfig": "none"}, parse_sets(["DestinationConfig=none,deployed"]),
                          has_destination=False)
    assert [c.skipped is None for c in combos] == [True, False]
    assert "has no on-failure destination" in combos[1].skipped


def test_parallelization_with_tumbling_windows_is_skipped_with_the_engines_reason() -> None:
    combos = combinations(BASE, parse_sets(["ParallelizationFactor=1,2", "TumblingWindowInSeconds=0,60"]),
                          has_destination=True)
    skipped = [c for c in combos if c.skipped]
    assert [(c.settings["ParallelizationFactor"], c.settings["TumblingWindowInSeconds"]) for c in skipped] == [(2, 60)]
    assert "window state per shard" in skipped[0].skipped


def test_grid_is_the_product_with_the_deployed_combination_always_in_it() -> None:
    combos = combinations(BASE, parse_sets(["BatchSize=10,50", "MaximumRetryAttempts=0,5"]), has_destination=True)
    assert combos[0].settings == BASE  # not in the product: added first, so the deployed row exists
    assert len(combos) == 5
    assert {(c.settings["BatchSize"], c.settings["MaximumRetryAttempts"]) for c in combos[1:]} == {
        (10, 0), (10, 5), (50, 0), (50, 5)}


def test_deployed_combination_in_the_grid_appears_once() -> None:
    combos = combinations(BASE, parse_sets(["BatchSize=100,10"]), has_destination=True)
    assert [c.settings["BatchSize"] for c in combos] == [100, 10]


def test_default_grid_covers_bisect_retries_partial_responses_and_batch_size() -> None:
    sets = default_sets(BASE)
    assert sets["BisectBatchOnFunctionError"] == [False, True]
    assert -1 in sets["MaximumRetryAttempts"] and 0 in sets["MaximumRetryAttempts"]
    assert sets["FunctionResponseTypes"] == [[], [RBIF]]
    assert sets["BatchSize"][0] == 100 and 10 in sets["BatchSize"]
