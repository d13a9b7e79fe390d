"""examples/powertools: a stack the harness was not written for (TableV2 keyed on PK, a Powertools
consumer with a requirements.txt, StartingPosition LATEST, an SSE-KMS failure bucket), through the
CLI exactly as a team would run it, and the misconfiguration the harness must catch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.deploy.sources import SourceSpec, open_source
from harness.scenarios import Mutation, load_scenarios, run_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "powertools"
pytestmark = pytest.mark.timeout(600)


def test_scenarios_run_on_a_stack_it_has_never_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`shardproof scenarios run --app DIR --scenarios DIR --json FILE`: today's result shape, item indexes."""
    monkeypatch.chdir(tmp_path)  # no project file here: the flags name everything
    out = tmp_path / "result.json"
    status = main(["scenarios", "run", "powertools-poison-isolated", "--app", str(EXAMPLE / "app"),
                   "--scenarios", str(EXAMPLE / "scenarios"), "--json", str(out)])
    result = json.loads(out.read_text())
    (sc,) = result["scenarios"]
    assert status == 0, [c for c in sc["checks"] if not c["passed"]] or sc["error"]
    assert sc["verdict"] == "pass" and sc["conservation"]["lost"] == 0
    # item indexes, not sequence numbers: the poison and the suffix behind it (partial responses, spec 0.3)
    assert [d["records"] for d in sc["observed"]["destination"]] == [[2, 3, 4, 5]]
    assert sc["expected"]["mapping"]["StartingPosition"] == "LATEST"
    assert sc["runtimes"]  # which Python ran each function is recorded
    assert any("installed locally" in n for n in sc["notes"])  # Powertools came from requirements.txt


def test_spec_2_2_a_mapping_that_ignores_batch_item_failures_fails_and_says_why(tmp_path: Path) -> None:
    """The same consumer and items with ReportBatchItemFailures off: Powertools reports the poison,
    the mapping ignores the report, the poison is acknowledged as processed. The verdict fails on the
    poison check and names the cause; the consumer behaved as declared, so it is not blamed."""
    source = open_source(SourceSpec("app", EXAMPLE / "app"), cache_dir=tmp_path / "synth")
    scenario = next(s for s in load_scenarios(EXAMPLE / "scenarios") if s.name == "powertools-poison-isolated")
    result = run_scenario(scenario, source=source, mutation=Mutation("rbif-off", context={"reportBatchItemFailures": False}))
    assert result["verdict"] == "fail", result["error"]
    failing = {c["name"]: c for c in result["checks"] if not c["passed"]}
    poison = failing["every poison item ends in a failure record or dropped with its reason"]
    assert "the mapping ignores batchItemFailures" in poison["observed"]["2"]
    assert result.get("blame") is None
    assert any(f["rule"] == "ignored-batch-item-failures" and f.get("observed") for f in result["lint"])
