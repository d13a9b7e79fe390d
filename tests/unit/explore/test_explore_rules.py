"""explore over bisect x retries on a stack it has not seen gives the counts AWS's rules give.

The stack (tests/unit/explore/stacks.py) is hand-written here: eight ledger entries, the third
poison, one batch of eight (BatchSize 8), an SQS on-failure destination, deployed with bisect off
and one retry. The expected counts below are worked out from the spec, not read from the engine:
- spec 0.2/1: without bisect the whole failing batch is retried 1 + MaximumRetryAttempts times
  and then written to the destination as one failure record, good records included;
- spec 2.1: with bisect the batch halves on each error (8 -> 4 -> 2 -> 1, no odd split), splitting
  uses no retries, and the poison alone then fails 1 + MaximumRetryAttempts times and is the
  only record of its failure record.
"""

from __future__ import annotations

import dataclasses

import pytest

from harness.esm import EngineSettings
from harness.explore import explore, parse_sets
from harness.explore.run import simulation_spec

from .stacks import base

GRID = ["BisectBatchOnFunctionError=false,true", "MaximumRetryAttempts=0,1,3"]


def rows_by(result: dict) -> dict[tuple[bool, int], dict]:
    return {(r["settings"]["BisectBatchOnFunctionError"], r["settings"]["MaximumRetryAttempts"]): r
            for r in result["rows"]}


@pytest.mark.parametrize("kind", ["dynamodb", "kinesis"])
def test_bisect_off_sends_the_whole_failing_batch_good_records_included_spec_0_2_and_1(kind: str) -> None:
    result = explore(base(kind, BatchSize=8, MaximumRetryAttempts=1), parse_sets(GRID))
    for retries in (0, 1, 3):
        r = rows_by(result)[(False, retries)]
        assert r["failure_records"] == 1
        assert r["records_in_failure_records"] == 8
        assert r["good_in_failure_records"] == 7
        assert r["invocations"] == 1 + retries
        assert r["deliveries"] == 8 * (1 + retries)
        assert r["duplicate_deliveries"] == 7 * retries
        assert r["lost"] == 0


@pytest.mark.parametrize("kind", ["dynamodb", "kinesis"])
def test_bisect_on_isolates_the_poison_alone_spec_2_1(kind: str) -> None:
    result = explore(base(kind, BatchSize=8, MaximumRetryAttempts=1), parse_sets(GRID))
    for retries in (0, 1, 3):
        r = rows_by(result)[(True, retries)]
        assert r["failure_records"] == 1
        assert r["records_in_failure_records"] == 1
        assert r["good_in_failure_records"] == 0
        assert r["lost"] == 0
        # [0-7] F, [0-3] F, [0,1] ok, [2,3] F, [2] F x (1 + retries), [3] ok, [4-7] ok
        assert r["invocations"] == 7 + retries
        # entries 0,1: 3 deliveries each; 3: 4 deliveries; 4..7: 2 each -> 2+2+3+4 extra
        assert r["duplicate_deliveries"] == 11


def test_the_deployed_row_is_marked_and_only_it() -> None:
    result = explore(base(BatchSize=8, MaximumRetryAttempts=1), parse_sets(GRID))
    deployed = [i for i, r in enumerate(result["rows"]) if r["deployed"]]
    assert len(deployed) == 1
    assert result["rows"][deployed[0]]["settings"]["MaximumRetryAttempts"] == 1
    assert result["rows"][deployed[0]]["settings"]["BisectBatchOnFunctionError"] is False
    assert result["base"]["BatchSize"] == 8 and result["base"]["DestinationConfig"] == "deployed"
    assert result["recommended"] in result["pareto"]
    best = result["rows"][result["recommended"]]
    assert best["settings"]["BisectBatchOnFunctionError"] is True and best["good_in_failure_records"] == 0


def test_without_a_destination_the_failing_batch_is_lost_spec_1() -> None:
    result = explore(base(BatchSize=8, MaximumRetryAttempts=0, destination=False),
                     parse_sets(["BisectBatchOnFunctionError=false,true"]))
    lost = {r["settings"]["BisectBatchOnFunctionError"]: r["lost"] for r in result["rows"]}
    assert lost == {False: 8, True: 1}
    assert all(r["failure_records"] == 0 for r in result["rows"])


def test_a_partial_response_lambda_ignores_loses_the_poison_spec_2_2() -> None:
    result = explore(base(BatchSize=8, MaximumRetryAttempts=2, handler="partial"),
                     parse_sets(["FunctionResponseTypes=none,ReportBatchItemFailures"]))
    by = {bool(r["settings"]["FunctionResponseTypes"]): r for r in result["rows"]}
    assert by[False]["lost"] == 1 and by[False]["failure_records"] == 0  # committed as a success
    assert by[True]["lost"] == 0 and by[True]["failure_records"] >= 1


def test_a_flaky_poison_that_recovers_within_the_retries_is_not_lost() -> None:
    result = explore(base(BatchSize=8, MaximumRetryAttempts=2, fail_times=1), parse_sets(["MaximumRetryAttempts=0,2"]))
    by = {r["settings"]["MaximumRetryAttempts"]: r for r in result["rows"]}
    assert by[2]["failure_records"] == 0 and by[2]["lost"] == 0 and by[2]["good_in_failure_records"] == 0
    # No retry: the whole batch goes, the transiently failing record counted as good (it would have passed).
    assert by[0]["failure_records"] == 1 and by[0]["good_in_failure_records"] == 8
    assert result["rows"][result["recommended"]]["settings"]["MaximumRetryAttempts"] == 2


def test_drain_and_blocked_time_follow_the_retry_cadence() -> None:
    result = explore(base(BatchSize=8, MaximumRetryAttempts=3), parse_sets(["BisectBatchOnFunctionError=false"]))
    r = result["rows"][0]
    backoff = EngineSettings().backoff
    waited = sum(backoff.delay(n) for n in (1, 2, 3))
    assert r["drain_s"] == pytest.approx(waited) and r["max_blocked_s"] == pytest.approx(waited)


def test_rows_come_out_the_same_when_the_grid_shares_its_records() -> None:
    b = base(BatchSize=8, MaximumRetryAttempts=1)
    once = explore(b, parse_sets(GRID))
    again = explore(b, parse_sets(list(reversed(GRID))))
    key = lambda r: sorted(r["settings"].items(), key=str)  # noqa: E731
    assert sorted(once["rows"], key=lambda r: str(key(r))) == sorted(again["rows"], key=lambda r: str(key(r)))


def test_scenario_faults_ride_along_to_the_simulation() -> None:
    b = base()
    object.__setattr__(b.scenario, "faults", [{"fault": "error", "function": "Posting", "items": [1]}])
    spec = simulation_spec(b, b.settings)
    assert spec["faults"] == [{"fault": "error", "function": "Posting", "items": [1]}]
    assert "faults" not in simulation_spec(base(), b.settings)


def test_a_fifo_destination_always_fails_so_the_failing_batch_is_lost_spec_3_1() -> None:
    b = base(BatchSize=8, MaximumRetryAttempts=0)
    fifo = dataclasses.replace(b.pipeline.mapping.destination, fifo=True)
    b = dataclasses.replace(b, pipeline=dataclasses.replace(
        b.pipeline, mapping=dataclasses.replace(b.pipeline.mapping, destination=fifo)))
    result = explore(b, parse_sets(["BisectBatchOnFunctionError=false,true"]))
    lost = {r["settings"]["BisectBatchOnFunctionError"]: r["lost"] for r in result["rows"]}
    assert lost == {False: 8, True: 1}
    assert all(r["failure_records"] == 0 for r in result["rows"])


def test_unbounded_retries_end_at_the_streams_retention_spec_8_and_10() -> None:
    """-1 retries and -1 age: the poison blocks its shard until the stream trims it (and what is behind it)."""
    grid = parse_sets(["BisectBatchOnFunctionError=true"])  # as deployed: one row each
    day = explore(base("kinesis", BatchSize=8, MaximumRetryAttempts=-1, BisectBatchOnFunctionError=True), grid)
    two = explore(base("kinesis", BatchSize=8, MaximumRetryAttempts=-1, BisectBatchOnFunctionError=True,
                       retention_hours=48), grid)
    (r1,), (r2,) = day["rows"], two["rows"]
    assert r1["lost"] == 6 and r2["lost"] == 6  # the poison and the five entries behind it
    assert 86400 <= r1["drain_s"] < 86400 + 60
    assert 2 * 86400 <= r2["drain_s"] < 2 * 86400 + 60
