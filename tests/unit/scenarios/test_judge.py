"""The judge without a backend: the default checks of any scenario, the conservation audit, the
oracle comparison, the consumer's declared behaviour, model errors, JUnit and fidelity rows, all
built from hand-made observations."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.esm import EngineSettings
from harness.scenarios import Scenario, ScenarioError, load_scenarios, select
from harness.judging import defaults as judge
from harness.judging import fidelity
from harness.judging.conservation import conservation, conservation_checks
from harness.judging.expect_block import check_expect, explicit_checks
from harness.judging.observation import FailureObject, Observation
from harness.judging.oracle import compare
from harness.scenarios.junit import failure_message, junit_xml
from harness.scenarios.oracle import build_spec, predict
from harness.streams import StreamRecord

MAPPING = {"BatchSize": 10, "MaximumRetryAttempts": 2, "BisectBatchOnFunctionError": True,
           "MaximumRecordAgeInSeconds": 3600, "FunctionResponseTypes": [],
           "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::b"}}, "UUID": "u"}
ITEMS = tuple({"PK": f"k{i}"} for i in range(10))


def scenario(**kw) -> Scenario:
    base = dict(name="s", title="t", description="d", spec_sections=("2.1",), items=ITEMS, poison=(4,))
    base.update(kw)
    return Scenario(**base)


ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"


def stream(count: int = 10, order: list[int] | None = None) -> list[StreamRecord]:
    """The stream the oracle replays: real Lambda-shaped records, item i written by write i (or in `order`)."""
    from harness.esm.records import make_record

    out = []
    for pos, i in enumerate(order if order is not None else range(count)):
        rec = make_record(sequence_number=str(10**20 + pos), arrival_s=1_700_000_000, new_image={"PK": {"S": f"k{i}"}},
                          keys={"PK": {"S": f"k{i}"}}, stream_arn=ARN, region="us-east-1", event_id=f"e{pos}")
        out.append(StreamRecord(seq=str(10**20 + pos), shard="sh", key=f"k{i}", arrival=1_700_000_000.0,
                                event="INSERT", index=i, record=rec))
    return out


def observation(processed, failure_records=(), dropped=(), filtered=(), count=10, invocations=(), keys=None,
                mapping=MAPPING, commits=None) -> Observation:
    keys = keys or [f"k{i}" for i in range(count)]
    injected = [{"index": i, "key": keys[i], "op": "put", "item": {}} for i in range(count)]
    stream = [StreamRecord(seq=str(100 + i), shard="sh", key=keys[i], arrival=0.0, event="INSERT", index=i, record={})
              for i in range(count)]
    objs = [FailureObject(key=f"aws/lambda/u/sh/k{n}", records=list(r), condition="RetryAttemptsExhausted",
                          approximate_invoke_count=3, function_error="Unhandled", has_response_context=True,
                          batch_size=len(r), payload_is_string=True, shard="sh") for n, r in enumerate(failure_records)]
    return Observation(injected=injected, stream=stream, invocations=list(invocations), failure_objects=objs,
                       processed=sorted(processed), filtered=list(filtered), dropped=list(dropped),
                       destination_failures=0, metrics={}, mapping=mapping,
                       commits=list(processed) if commits is None else commits)


def inv(records, outcome="success", failed=(), function_error=None, bif=None) -> dict:
    return {"records": list(records), "outcome": outcome, "failed": list(failed), "function_error": function_error,
            "response_has_batch_item_failures": bif}


# -- conservation -------------------------------------------------------------------------------


def test_spec_1_conservation_balances_when_every_record_is_accounted_for() -> None:
    c = conservation(observation([0, 1, 2, 3, 5, 6, 7, 8], failure_records=[[4]],
                                 dropped=[{"records": [9], "condition": "RetryAttemptsExhausted", "reason": "x"}]))
    assert (c["injected"], c["processed"], c["in_failure_records"], c["dropped"], c["lost"]) == (10, 8, 1, 1, 0)
    assert all(ch.passed for ch in conservation_checks(c))


def test_spec_1_conservation_names_lost_records_by_index_key_and_sequence_number() -> None:
    c = conservation(observation([0, 1, 2, 3, 5, 6, 7, 8, 9]))  # record 4 is nowhere
    assert c["lost"] == 1
    assert c["lost_records"] == ["item 4 k4 (seq 104)"]
    failed = [ch for ch in conservation_checks(c) if not ch.passed]
    assert {ch.name for ch in failed} >= {"conservation: no record lost (names the lost records)"}


def test_conservation_flags_a_record_counted_twice() -> None:
    c = conservation(observation(list(range(10)), failure_records=[[4]]))
    assert c["double_counted"] == ["item 4 k4 (seq 104)"]
    assert not all(ch.passed for ch in conservation_checks(c))


# -- default checks ------------------------------------------------------------------------------


def test_spec_1_and_3_every_poison_item_must_end_failed_and_says_where_it_went() -> None:
    ok = judge.poison_checks(scenario(), observation([0, 1, 2, 3, 5, 6, 7, 8, 9], failure_records=[[4]]), {})
    assert all(c.passed for c in ok)
    dropped = [{"records": [4], "condition": "RetryAttemptsExhausted", "reason": "no destination"}]
    assert all(c.passed for c in judge.poison_checks(scenario(), observation(range(10), dropped=dropped), {}))
    (bad,) = judge.poison_checks(scenario(), observation(range(10)), {})
    assert not bad.passed and bad.observed == {4: "processed"}
    (want_processed,) = judge.poison_checks(scenario(), observation(range(10)), {"poison": "processed"})
    assert want_processed.passed


def test_spec_2_2_a_mapping_that_ignores_batch_item_failures_is_named_as_the_reason() -> None:
    """The consumer reported the poison in batchItemFailures, but FunctionResponseTypes lacks
    ReportBatchItemFailures: the poison was committed as processed."""
    obs = observation(range(10), invocations=[inv(range(10), bif=True)])
    (bad,) = judge.poison_checks(scenario(handler="partial"), obs, {})
    assert not bad.passed and "the mapping ignores batchItemFailures" in bad.observed[4]
    assert "spec 2.2" in bad.observed[4]


def test_spec_2_1_isolation_is_checked_where_the_oracle_isolates_poison() -> None:
    predicted = {"destination": [{"records": [4]}]}
    leaky = observation([0, 1, 2, 3], failure_records=[[4, 5, 6]])
    (c,) = judge.isolation_checks(scenario(), leaky, predicted, {})
    assert not c.passed and c.observed == [5, 6]
    whole_batch = {"destination": [{"records": list(range(10))}]}  # bisect off: isolation is not promised
    assert judge.isolation_checks(scenario(), leaky, whole_batch, {}) == []
    assert judge.isolation_checks(scenario(), leaky, whole_batch, {"isolated": True})[0].passed is False
    assert judge.isolation_checks(scenario(), leaky, predicted, {"isolated": False}) == []


def test_spec_1_order_per_key_is_checked_on_the_commits() -> None:
    keys = ["a", "b", "a", "b"]
    in_order = observation([0, 1, 2, 3], count=4, keys=keys, commits=[0, 1, 2, 3])
    assert judge.order_checks(in_order, {})[0].passed
    swapped = observation([0, 1, 2, 3], count=4, keys=keys, commits=[1, 2, 0, 3])  # a's 2 before a's 0
    (c,) = judge.order_checks(swapped, {})
    assert not c.passed and c.observed == {'a': [2, 0]}
    assert judge.order_checks(swapped, {"order": False}) == []


def test_spec_3_2_and_4_envelope_checks_name_bad_keys_and_payloads() -> None:
    obs = observation([0], failure_records=[[4]])
    assert all(c.passed for c in judge.envelope_checks(obs, "u"))
    obs.failure_objects[0].key = "aws/lambda/other/sh/k0"
    obs.failure_objects[0].payload_is_string = False
    failed = {c.name for c in judge.envelope_checks(obs, "u") if not c.passed}
    assert failed == {"failure object keys use aws/lambda/<ESM UUID>/<shard>/...", "failure object payload is a JSON string"}


@pytest.mark.parametrize("mode, invocations, wrong", [
    ("raise", [inv(range(10), "function_error", function_error="Unhandled"), inv([0, 1, 2, 3, 5])], 0),
    ("raise", [inv(range(10), "partial_failure", failed=[4])], 1),  # declared raise, answered partially
    ("partial", [inv(range(10), "partial_failure", failed=[4])], 0),
    ("partial", [inv(range(10), "function_error", function_error="Unhandled")], 1),  # raised where partial declared
    ("partial", [inv(range(10), "partial_failure", failed=[4, 5])], 1),  # reported a good item
    ("partial-or-raise", [inv(range(10), "partial_failure", failed=[4]), inv([4], "function_error")], 0),
    ("partial-or-raise", [inv([4], "partial_failure", failed=[4])], 1),  # all failed: Powertools raises
    ("raise", [inv([0, 1], "function_error")], 1),  # failed without any declared poison
])
def test_spec_2_2_the_consumer_is_held_to_its_declared_handler(mode, invocations, wrong) -> None:
    rbif = {**MAPPING, "FunctionResponseTypes": ["ReportBatchItemFailures"]} if mode != "raise" else MAPPING
    (c,) = judge.handler_checks(scenario(handler=mode), observation([], invocations=invocations, mapping=rbif))
    assert len(c.observed) == wrong and c.passed is (wrong == 0)
    assert mode in c.name


def test_fail_times_lets_a_declared_poison_succeed_on_later_deliveries() -> None:
    sc = scenario(poison=(4,), fail_times=1, handler="raise")
    obs = observation(range(10), invocations=[inv(range(10), "function_error"), inv(range(10))])
    assert judge.handler_checks(sc, obs)[0].passed


def test_failure_handler_and_alert_checks_read_deliveries_and_messages() -> None:
    obs = observation([0], failure_records=[[4]])
    key = obs.failure_objects[0].key
    (c,) = judge.failure_handler_checks(obs, ("handler",), {})
    assert not c.passed and c.expected == [(key, "handler")]
    obs.notifications = [{"key": key, "function": "handler", "result": "success"}]
    assert judge.failure_handler_checks(obs, ("handler",), {})[0].passed
    assert judge.failure_handler_checks(obs, (), {}) == []
    (a,) = judge.alert_checks(obs, ("arn:topic",), {})
    assert not a.passed and a.observed == [key]
    obs.alerts = [{"channel": "arn:topic", "body": {"key": key}}]
    assert judge.alert_checks(obs, ("arn:topic",), {})[0].passed
    assert judge.alert_checks(obs, ("arn:topic",), {"alerts": False}) == []
    assert not judge.alert_checks(obs, ("arn:topic",), {"alerts": 2})[0].passed


def test_explicit_expectations_become_named_checks() -> None:
    expect = check_expect({"failure_records": 1, "destination": [[4]], "condition": "RetryAttemptsExhausted",
                           "approximate_invoke_count": 3, "function_error": "Unhandled", "processed": [0],
                           "invocations": 2}, poison=(4,), count=10)
    checks = explicit_checks(expect, observation([0], failure_records=[[4]], invocations=[inv([0]), inv([4])]))
    assert len(checks) == 7 and all(c.passed for c in checks)
    bad = explicit_checks({"approximate_invoke_count": 4}, observation([0], failure_records=[[4]]))
    assert not bad[0].passed and "spec" and bad[0].spec == "0.2, 3.2"


# -- oracle --------------------------------------------------------------------------------------


def test_oracle_spec_follows_the_deployed_mapping_and_the_scenario() -> None:
    spec = build_spec(scenario(context={"bisect": False}), MAPPING, EngineSettings(), stream())
    assert spec["mapping"]["BisectBatchOnFunctionError"] is True  # the mapping as deployed, not the context
    assert spec["handler"] == {"fail": [4], "mode": "raise"}
    predicted = predict(spec, stream())
    assert predicted["destination"] == [{"records": [4], "condition": "RetryAttemptsExhausted",
                                         "approximateInvokeCount": 3, "functionError": "Unhandled", "batchSize": 1}]
    assert predicted["processed"] == [0, 1, 2, 3, 5, 6, 7, 8, 9]


def test_oracle_handler_default_follows_the_deployed_function_response_types() -> None:
    rbif = {**MAPPING, "FunctionResponseTypes": ["ReportBatchItemFailures"]}
    assert build_spec(scenario(), rbif, EngineSettings(), stream())["handler"]["mode"] == "partial"
    assert build_spec(scenario(handler="partial-or-raise", fail_times=2), rbif, EngineSettings(), stream())["handler"] == {
        "fail": [4], "mode": "partial-or-raise", "fail_times": 2}


def test_oracle_replays_the_stream_in_its_own_order_and_reports_item_indexes() -> None:
    """Stream positions are not item indexes when the stream's order differs from the writes'
    (several shards): the oracle fails the positions the poison items wrote and answers in items."""
    order = [3, 4, 0, 1, 2]
    spec = build_spec(scenario(items=ITEMS[:5], poison=(0,)), MAPPING, EngineSettings(), stream(order=order))
    assert spec["handler"]["fail"] == [2]  # item 0 is the stream's third record
    predicted = predict(spec, stream(order=order))
    assert [d["records"] for d in predicted["destination"]] == [[0]]
    assert predicted["invocations"][0] == order and predicted["processed"] == [1, 2, 3, 4]


def test_oracle_comparison_passes_a_faithful_observation_and_fails_a_wrong_one() -> None:
    sc = scenario()
    predicted = predict(build_spec(sc, MAPPING, EngineSettings(), stream()), stream())
    good = observation([0, 1, 2, 3, 5, 6, 7, 8, 9], failure_records=[[4]],
                       invocations=[inv(r) for r in predicted["invocations"]])
    assert all(c.passed for c in compare(sc, predicted, good))
    whole = observation([], failure_records=[list(range(10))])  # what bisect-off produces
    failed = {c.name: c for c in compare(sc, predicted, whole) if not c.passed}
    dest = next(c for n, c in failed.items() if n.startswith("oracle: destination records"))
    assert dest.observed[0]["records"] == list(range(10)) and dest.expected[0]["records"] == [4]


def test_spec_7_3_unavailable_destination_compares_drops_with_what_aws_would_have_written() -> None:
    sc = scenario(destination_available=False)
    predicted = predict(build_spec(sc, MAPPING, EngineSettings(), stream()), stream())
    obs = observation([0, 1, 2, 3, 5, 6, 7, 8, 9], dropped=[
        {"records": [4], "condition": "RetryAttemptsExhausted", "reason": "destination delivery failed"}])
    checks = {c.name: c for c in compare(sc, predicted, obs)}
    assert checks["oracle: records AWS would send to the destination are dropped when delivery fails"].passed
    assert checks["oracle: records dropped without a destination"].passed


# -- model, loader, reports ------------------------------------------------------------------------


@pytest.mark.parametrize("field, value, message", [
    ("poison", (10,), "poison indexes [10] are not item indexes 0..9"),
    ("poison", (1, 1), "poison lists an index twice"),
    ("clock", "sundial", "clock 'sundial'"),
    ("items", (), "items must be a non-empty list"),
    ("name", "bad name", "name must be"),
    ("handler", "weird", "handler 'weird'"),
    ("fail_times", 0, "fail_times must be an integer >= 1"),
    ("table", "", "table must be a logical id"),
    ("expect", {"condition": "Timeout"}, "expect.condition must be one of"),
])
def test_bad_scenarios_are_refused_naming_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ScenarioError, match="scenario") as err:
        scenario(**{field: value})
    assert message in str(err.value)


def test_the_suite_loads_with_unique_names() -> None:
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


def test_fidelity_rows_say_matches_diverges_consumer_differs_or_not_run() -> None:
    a = scenario(name="a", rules=(("rule A", "2.1"),))
    b = scenario(name="b", rules=(("rule B", "1"),))
    c = scenario(name="c", rules=(("rule C", "3"),))
    d = scenario(name="d", rules=(("rule D", "2.2"),))
    results = [{"name": "a", "verdict": "pass", "checks": [], "error": None},
               {"name": "b", "verdict": "fail", "error": None,
                "checks": [{"name": "x differs", "passed": False}]},
               {"name": "d", "verdict": "fail", "error": None, "blame": "consumer",
                "checks": [{"name": judge.HANDLER_CHECK, "passed": False}]}]
    rows = {r["rule"]: r for r in fidelity([a, b, c, d], results, "embedded")}
    assert rows["rule A"]["status"] == "matches"
    assert rows["rule B"]["status"] == "diverges" and "x differs" in rows["rule B"]["reason"]
    assert rows["rule C"]["status"] == "not-run"
    assert rows["rule D"]["status"] == "consumer-differs"
