"""Mutation tests: the judge must FAIL a pipeline that does not do what AWS does, and say what
differed. Each mutation changes one thing (bisect off; a consumer that swallows poison)."""

from __future__ import annotations

import pytest

from _sample.wrappers import use_wrapper
from harness.scenarios import Mutation, load_scenarios, run_scenario, run_suite, select
from harness.scenarios.junit import failure_message, junit_xml

BY_NAME = {s.name: s for s in load_scenarios()}
pytestmark = pytest.mark.timeout(120)


def failing(result: dict) -> dict[str, dict]:
    return {c["name"]: c for c in result["checks"] if not c["passed"]}


def test_bisect_off_fails_the_isolation_scenario() -> None:
    result = run_scenario(BY_NAME["one-poison-bisect"], mutation=Mutation("bisect-off", context={"bisect": False}))
    assert result["verdict"] == "fail"
    bad = failing(result)
    iso = bad["failure objects hold exactly the poison records, one each"]
    assert iso["expected"] == [[4]] and iso["observed"] == [list(range(10))]
    assert bad["every failure object: batchSize 1 and start = end sequence number"]["observed"] == [[10, False]]
    assert "spec 2.1" in failure_message(result)
    assert result["conservation"]["lost"] == 0  # the records went to S3: wrong, but not lost


def test_swallowing_consumer_fails_and_the_oracle_says_what_aws_would_write() -> None:
    result = run_scenario(BY_NAME["one-poison-bisect"], mutation=Mutation("swallow", prepare=use_wrapper("swallow")))
    assert result["verdict"] == "fail"
    bad = failing(result)
    assert bad["1 failure object(s) in S3 (bisect isolates the poison)"]["observed"] == 0
    oracle = bad["oracle: destination records (records, condition, approximateInvokeCount, functionError, "
                 "batchSize) as AWS writes them"]
    assert oracle["expected"] == [{"records": [4], "condition": "RetryAttemptsExhausted",
                                   "approximateInvokeCount": 3, "functionError": "Unhandled", "batchSize": 1}]
    assert oracle["observed"] == []
    assert bad["oracle: processed (committed) records"]["observed"] == list(range(10))


def test_swallowing_consumer_fails_the_retry_exhaustion_scenario() -> None:
    result = run_scenario(BY_NAME["retry-exhaustion"], mutation=Mutation("swallow", prepare=use_wrapper("swallow")))
    assert result["verdict"] == "fail"
    assert "the failure object holds the whole batch" in failing(result)


def test_suite_result_has_exactly_the_report_schema() -> None:
    result = run_suite(select(load_scenarios(), ["retry-exhaustion"]), all_scenarios=load_scenarios())
    assert set(result) == {"run", "scenarios", "fidelity"}
    assert set(result["run"]) >= {"backend", "started", "wall_s", "harness_version", "backend_info"}
    (sc,) = result["scenarios"]
    assert set(sc) == {"name", "title", "description", "spec_sections", "verdict", "wall_s", "checks", "expected",
                       "observed", "conservation", "journal", "error", "lint", "runtimes", "notes"}
    assert sc["verdict"] == "pass" and sc["error"] is None
    assert set(sc["conservation"]) == {"injected", "processed", "filtered", "in_failure_records", "dropped", "lost",
                                       "lost_records"}
    assert sc["conservation"]["lost"] == 0 and sc["conservation"]["in_failure_records"] == 10
    assert all(set(c) == {"name", "passed", "expected", "observed", "spec"} for c in sc["checks"])
    assert any(e["kind"] == "injected" for e in sc["journal"])
    statuses = {f["status"] for f in result["fidelity"]}
    assert statuses <= {"matches", "diverges", "not-run"} and "matches" in statuses and "not-run" in statuses
    assert "<testcase classname=\"scenarios\" name=\"retry-exhaustion\"" in junit_xml(result)
