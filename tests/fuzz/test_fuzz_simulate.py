"""Bad simulate specs (`shardproof simulate`, run_simulation): never an unhandled exception and never a
hang; always SimulationSpecError with a message naming the field, or a result."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzkit import json_values  # type: ignore[import-not-found]
from harness.esm import EngineSettings, SimulationSpecError, run_simulation

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MAPPING_KEYS = ["BatchSize", "MaximumRetryAttempts", "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds",
                "FunctionResponseTypes", "DestinationConfig", "MaximumBatchingWindowInSeconds", "StartingPosition",
                "FilterCriteria", "ParallelizationFactor", "TumblingWindowInSeconds", "Enabled", "Nonsense"]
ENGINE_KEYS = [f.name for f in dataclasses.fields(EngineSettings)] + ["nonsense"]
small = st.one_of(st.integers(-3, 12), st.sampled_from([-1, 0, 60, 10000, 10001]), json_values)

specs = st.fixed_dictionaries({}, optional={
    "mapping": st.one_of(json_values, st.dictionaries(st.sampled_from(MAPPING_KEYS), small, max_size=4)),
    "records": st.one_of(st.integers(-2, 25), st.lists(st.one_of(st.dictionaries(st.text(max_size=5), json_values,
                                                                                    max_size=3), json_values),
                                                        max_size=8), json_values),
    "handler": st.one_of(json_values, st.fixed_dictionaries({}, optional={
        "fail": st.one_of(st.lists(st.integers(-2, 26), max_size=3), json_values),
        "mode": st.one_of(st.sampled_from(["raise", "partial", "partial-malformed", "timeout", "explode"]), json_values),
        "fail_times": st.one_of(st.none(), st.integers(-1, 3), json_values)})),
    "clock": st.one_of(json_values, st.dictionaries(st.sampled_from(["start", "record_interval_s", "start_delay_s", "x"]),
                                                    st.one_of(st.floats(-1, 1e6), json_values), max_size=3)),
    "engine": st.one_of(json_values, st.dictionaries(st.sampled_from(ENGINE_KEYS), st.one_of(
        st.fixed_dictionaries({}, optional={k: st.one_of(st.floats(-1, 20), json_values)
                                            for k in ("initial_s", "factor", "max_s")}), json_values), max_size=3)),
    "shards": st.one_of(st.just(1), json_values),
    "extra": json_values,
})


@FUZZ
@given(specs)
def test_arbitrary_specs(spec):
    try:
        out = run_simulation(spec)
    except SimulationSpecError as exc:
        msg = str(exc)
        assert msg and any(k in msg for k in list(spec) + ["spec"]), (spec, msg)
        return
    assert set(out) >= {"invocations", "destination", "processed", "discarded", "metrics"}


engines = st.dictionaries(st.sampled_from(ENGINE_KEYS), st.one_of(
    st.fixed_dictionaries({}, optional={k: st.one_of(st.sampled_from([0, 0.0, 0.5, 1, 2, -1]), st.floats(-1, 20), json_values)
                                        for k in ("initial_s", "factor", "max_s")}),
    st.booleans(), st.integers(-10, 10**7), st.floats(allow_nan=True), st.text(max_size=5), st.none()), max_size=3)


@FUZZ
@given(engines, st.sampled_from([-1, 0, 2]), st.sampled_from([-1, 60]), st.booleans(),
       st.sampled_from(["raise", "partial", "timeout"]))
def test_engine_settings_with_an_otherwise_valid_spec(engine, retries, max_age, bisect, mode):
    """Mostly valid specs reach the engine itself: a bad engine setting must be refused up front,
    never crash the run half-way or spin forever on virtual time."""
    spec = {"mapping": {"BatchSize": 5, "MaximumRetryAttempts": retries, "MaximumRecordAgeInSeconds": max_age,
                        "BisectBatchOnFunctionError": bisect, "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::failures"}}},
            "records": 6, "handler": {"fail": [1], "mode": mode, "fail_times": 2}, "engine": engine}
    try:
        out = run_simulation(spec)
    except SimulationSpecError as exc:
        assert "engine" in str(exc), str(exc)
        return
    assert sorted(out["processed"] + out["discarded"] + out["trimmed"]) == list(range(6))


def _refused(spec: dict, *fragments: str) -> None:
    try:
        run_simulation(spec)
    except SimulationSpecError as exc:
        assert all(f in str(exc) for f in fragments), str(exc)
    else:  # pragma: no cover
        raise AssertionError(f"accepted: {spec}")


def test_found_by_fuzzing_zero_backoff_with_infinite_retries_is_refused_not_a_hang():
    """Virtual time only advances by backoff: this spec used to spin forever at one instant."""
    _refused({"records": 1, "handler": {"fail": [0]}, "engine": {"backoff": {"initial_s": 0, "max_s": 0}}},
             "engine.backoff", "initial_s > 0")
    _refused({"records": 1, "handler": {"fail": [0]}, "engine": {"backoff": {"factor": 0.5}}}, "factor >= 1")


def test_found_by_fuzzing_blocking_on_a_fifo_destination_is_refused_not_a_hang():
    _refused({"mapping": {"MaximumRetryAttempts": 0,
                          "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q.fifo"}}},
              "records": 2, "handler": {"fail": [0]}, "engine": {"block_on_destination_failure": True}},
             "engine.block_on_destination_failure", "FIFO")


def test_found_by_fuzzing_wrongly_typed_engine_settings_name_the_setting():
    _refused({"records": 3, "engine": {"max_payload_bytes": {}}}, "engine.max_payload_bytes", "positive integer")
    _refused({"records": 3, "engine": {"split_on_every_error": "yes"}}, "engine.split_on_every_error", "true or false")
    _refused({"records": 3, "clock": {"start": float("nan")}}, "clock.start", "finite")
