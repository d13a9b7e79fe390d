"""--verify's pieces that need no backend: the template override and the agreement rule."""

from __future__ import annotations

from harness.explore.verify import agreement, override_template

from .stacks import template

SETTINGS = {"BatchSize": 4, "MaximumBatchingWindowInSeconds": 1, "ParallelizationFactor": 2,
            "MaximumRetryAttempts": 0, "MaximumRecordAgeInSeconds": 60, "BisectBatchOnFunctionError": True,
            "FunctionResponseTypes": ["ReportBatchItemFailures"], "TumblingWindowInSeconds": 0,
            "DestinationConfig": "none"}


def test_override_sets_every_parameter_on_the_mapping_and_leaves_the_original_alone() -> None:
    original = template(BatchSize=8, MaximumRetryAttempts=1)
    out = override_template(original, "PostingMapping", SETTINGS)
    props = out["Resources"]["PostingMapping"]["Properties"]
    assert {k: props[k] for k in SETTINGS if k != "DestinationConfig"} == {
        k: v for k, v in SETTINGS.items() if k != "DestinationConfig"}
    assert "DestinationConfig" not in props  # none: the destination is removed
    assert original["Resources"]["PostingMapping"]["Properties"]["BatchSize"] == 8
    assert "DestinationConfig" in original["Resources"]["PostingMapping"]["Properties"]
    kept = override_template(original, "PostingMapping", {**SETTINGS, "DestinationConfig": "deployed"})
    assert kept["Resources"]["PostingMapping"]["Properties"]["DestinationConfig"] == \
        original["Resources"]["PostingMapping"]["Properties"]["DestinationConfig"]


ROW = {"invocations": 2, "failure_records": 1, "records_in_failure_records": 3, "good_in_failure_records": 2,
       "lost": 0}


def run(destination: list[list[int]], invocations: int = 2, verdict: str = "pass", oracle_ok: bool = True) -> dict:
    return {"verdict": verdict, "error": "RuntimeError: boom\ntrace" if verdict == "error" else None,
            "expected": {"poison": [1]},
            "observed": {"destination": [{"records": r} for r in destination], "dropped": [], "processed": [],
                         "invocations": [{}] * invocations},
            "conservation": {"lost": 0},
            "checks": [{"name": "oracle: processed (committed) records", "passed": oracle_ok}]}


def test_agreement_when_counts_and_oracle_checks_match() -> None:
    assert agreement(ROW, run([[0, 1, 2]])) == (True, "the real run matched the oracle")


def test_disagreement_names_each_difference() -> None:
    ok, note = agreement(ROW, run([[1]], invocations=5, oracle_ok=False))
    assert ok is False
    assert "invocations: oracle 2, real 5" in note and "good_in_failure_records: oracle 2, real 0" in note
    assert "failed check 'oracle: processed (committed) records'" in note


def test_a_run_that_errored_says_nothing_either_way() -> None:
    ok, note = agreement(ROW, run([], verdict="error"))
    assert ok is None and "boom" in note and "trace" not in note
