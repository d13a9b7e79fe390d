"""The judge without a backend: conservation audit, oracle comparison, model and loader errors,
JUnit and fidelity rows, built from hand-made observations."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.esm import EngineSettings
from harness.scenarios import Scenario, ScenarioError, load_scenarios, select
from harness.scenarios.audit import conservation, conservation_checks
from harness.scenarios.junit import failure_message, junit_xml
from harness.scenarios.model import Mutation
from harness.scenarios.observe import FailureObject, Observation
from harness.scenarios.oracle import build_spec, compare, predict
from harness.scenarios.runner import fidelity

MAPPING = {"BatchSize": 10, "MaximumRetryAttempts": 2, "BisectBatchOnFunctionError": True,
           "MaximumRecordAgeInSeconds": 3600, "FunctionResponseTypes": [],
           "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::b"}}, "UUID": "u"}


def scenario(**kw) -> Scenario:
    base = dict(name="s", title="t", description="d", spec_sections=("2.1",),
                context={"batchSize": 10, "retryAttempts": 2, "bisect": True}, count=10, poison=(4,))
    base.update(kw)
    return Scenario(**base)


def observation(processed, failure_records=(), dropped=(), filtered=(), count=10, invocations=()) -> Observation:
    injected = [{"index": i, "pk": f"order#t-{i:05d}", "item": {}} for i in range(count)]
    stream = [{"seq": str(100 + i), "pk": f"order#t-{i:05d}", "index": i, "arrival": 0} for i in range(count)]
    objs = [FailureObject(key=f"aws/lambda/u/sh/k{n}", records=list(r), condition="RetryAttemptsExhausted",
                          approximate_invoke_count=3, function_error="Unhandled", has_response_context=True,
                          batch_size=len(r), payload_is_string=True) for n, r in enumerate(failure_records)]
    return Observation(injected=injected, stream=stream, invocations=list(invocations), failure_objects=objs,
                       processed=sorted(processed), filtered=list(filtered), dropped=list(dropped),
                       destination_failures=0, projected={}, projection_log=[], metrics={}, mapping=MAPPING)


def test_conservation_balances_when_every_record_is_accounted_for() -> None:
    c = conservation(observation([0, 1, 2, 3, 5, 6, 7, 8], failure_records=[[4]],
                                 dropped=[{"records": [9], "condition": "RetryAttemptsExhausted", "reason": "x"}]))
    assert (c["injected"], c["processed"], c["in_failure_records"], c["dropped"], c["lost"]) == (10, 8, 1, 1, 0)
    assert all(ch.passed for ch in conservation_checks(c))


def test_conservation_names_lost_records_by_item_key_and_sequence_number() -> None:
    c = conservation(observation([0, 1, 2, 3, 5, 6, 7, 8, 9]))  # record 4 is nowhere
    assert c["lost"] == 1
    assert c["lost_records"] == ["order#t-00004 (index 4, seq 104)"]
    failed = [ch for ch in conservation_checks(c) if not ch.passed]
    assert {ch.name for ch in failed} >= {"conservation: no record lost (names the lost records)"}


def test_conservation_flags_a_record_counted_twice() -> None:
    c = conservation(observation(list(range(10)), failure_records=[[4]]))
    assert c["double_counted"] == ["order#t-00004 (index 4, seq 104)"]
    assert not all(ch.passed for ch in conservation_checks(c))


def test_oracle_spec_follows_the_deployed_mapping_and_the_scenario() -> None:
    spec = build_spec(scenario(), MAPPING, EngineSettings())
    assert spec["mapping"]["BisectBatchOnFunctionError"] is True
    assert spec["handler"] == {"fail": [4], "mode": "raise"}
    predicted = predict(spec)
    assert predicted["destination"] == [{"records": [4], "condition": "RetryAttemptsExhausted",
                                         "approximateInvokeCount": 3, "functionError": "Unhandled", "batchSize": 1}]
    assert predicted["processed"] == [0, 1, 2, 3, 5, 6, 7, 8, 9]


def test_oracle_comparison_passes_a_faithful_observation_and_fails_a_wrong_one() -> None:
    sc = scenario()
    predicted = predict(build_spec(sc, MAPPING, EngineSettings()))
    good = observation([0, 1, 2, 3, 5, 6, 7, 8, 9], failure_records=[[4]],
                       invocations=[{"records": r, "outcome": "x", "function_error": None}
                                    for r in predicted["invocations"]])
    assert all(c.passed for c in compare(sc, predicted, good))
    whole = observation([], failure_records=[list(range(10))])  # what bisect-off produces
    failed = {c.name: c for c in compare(sc, predicted, whole) if not c.passed}
    dest = next(c for n, c in failed.items() if n.startswith("oracle: destination records"))
    assert dest.observed[0]["records"] == list(range(10)) and dest.expected[0]["records"] == [4]


def test_unavailable_destination_compares_drops_with_what_aws_would_have_written() -> None:
    sc = scenario(destination_available=False)
    predicted = predict(build_spec(sc, MAPPING, EngineSettings()))
    obs = observation([0, 1, 2, 3, 5, 6, 7, 8, 9], dropped=[
        {"records": [4], "condition": "RetryAttemptsExhausted", "reason": "destination delivery failed"}])
    checks = {c.name: c for c in compare(sc, predicted, obs)}
    assert checks["oracle: records AWS would send to the destination are dropped when delivery fails"].passed
    assert checks["oracle: records dropped without a destination"].passed


@pytest.mark.parametrize("field, value, message", [
    ("poison", (10,), "poison indexes [10] are outside 0..9"),
    ("wrapper", "explode", "wrapper 'explode' is not one of"),
    ("clock", "sundial", "clock 'sundial'"),
    ("count", 0, "count must be a positive integer"),
    ("name", "bad name", "name must be"),
    ("spec_sections", (), "spec_sections"),
    ("oracle_mode", "weird", "oracle_mode 'weird'"),
])
def test_bad_scenarios_are_refused_naming_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ScenarioError, match="scenario") as err:
        scenario(**{field: value})
    assert message in str(err.value)


def test_mutation_with_unknown_wrapper_is_refused() -> None:
    with pytest.raises(ScenarioError, match="mutation 'm': wrapper 'nope'"):
        Mutation("m", wrapper="nope")


def test_oracle_mode_defaults_follow_report_batch_item_failures() -> None:
    assert scenario().oracle_handler()["mode"] == "raise"
    assert scenario(context={"reportBatchItemFailures": True}).oracle_handler()["mode"] == "partial"
    assert scenario(oracle_fail=(3,), oracle_fail_times=2).oracle_handler() == {"fail": [3], "mode": "raise",
                                                                                 "fail_times": 2}


def test_the_suite_loads_with_unique_names_and_spec_sections() -> None:
    scenarios = load_scenarios()
    names = [s.name for s in scenarios]
    assert len(names) == len(set(names)) >= 13
    assert {"one-poison-bisect", "retry-exhaustion", "record-age-expiry", "replay-after-fix",
            "destination-unavailable", "unbounded-retries"} <= set(names)
    assert select(scenarios, ["retry-exhaustion"])[0].name == "retry-exhaustion"
    with pytest.raises(ScenarioError, match="unknown scenario"):
        select(scenarios, ["no-such-scenario"])


def test_loader_names_the_broken_file(tmp_path: Path) -> None:
    (tmp_path / "01_broken.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(ScenarioError, match=r"01_broken.py: RuntimeError: boom"):
        load_scenarios(tmp_path)
    (tmp_path / "01_broken.py").write_text("X = 1\n")
    with pytest.raises(ScenarioError, match="01_broken.py: defines no SCENARIO"):
        load_scenarios(tmp_path)


def _result(verdict: str, checks: list[dict], error: str | None = None) -> dict:
    return {"run": {"backend": "embedded", "started": "2026-01-01T00:00:00+00:00", "wall_s": 1.0},
            "scenarios": [{"name": "s", "title": "t", "spec_sections": ["2.1"], "verdict": verdict, "wall_s": 1.0,
                           "checks": checks, "conservation": {}, "error": error}]}


def test_junit_failure_message_lists_the_differing_checks() -> None:
    checks = [{"name": "ok", "passed": True, "expected": 1, "observed": 1, "spec": ""},
              {"name": "one failure object", "passed": False, "expected": 1, "observed": 0, "spec": "2.1"}]
    result = _result("fail", checks)
    assert failure_message(result["scenarios"][0]) == "one failure object [spec 2.1]: expected 1, observed 0"
    xml = junit_xml(result)
    assert 'failures="1"' in xml and "one failure object [spec 2.1]" in xml
    assert '<error' in junit_xml(_result("error", [], error="RuntimeError: boom\ntrace"))


def test_fidelity_rows_say_matches_diverges_or_not_run() -> None:
    a = scenario(name="a", rules=(("rule A", "2.1"),))
    b = scenario(name="b", rules=(("rule B", "1"),))
    c = scenario(name="c", rules=(("rule C", "3"),))
    results = [{"name": "a", "verdict": "pass", "checks": [], "error": None},
               {"name": "b", "verdict": "fail", "error": None,
                "checks": [{"name": "x differs", "passed": False}]}]
    rows = {r["rule"]: r for r in fidelity([a, b, c], results, "embedded")}
    assert rows["rule A"]["status"] == "matches"
    assert rows["rule B"]["status"] == "diverges" and "x differs" in rows["rule B"]["reason"]
    assert rows["rule C"]["status"] == "not-run"
