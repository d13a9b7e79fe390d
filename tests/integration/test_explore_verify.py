"""`shardproof explore --verify K` on the Kinesis SAM example: the best rows deployed for real on the
embedded backend, with the mapping's settings overridden, agree with the oracle, bisect off included
(the whole batch in one failure record, spec 0.2) as well as on (the poison alone, spec 2.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kinesis"
pytestmark = pytest.mark.timeout(300)


def test_verify_runs_the_best_rows_for_real_and_they_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "explore.json"
    status = main(["explore", "kinesis-poison-isolated-by-bisect", "--template", str(EXAMPLE / "template.yaml"),
                   "--scenarios", str(EXAMPLE / "scenarios"), "--set", "BisectBatchOnFunctionError=false,true",
                   "--set", "MaximumRetryAttempts=0,2", "--verify", "1", "--json", str(out)])
    assert status == 0
    result = json.loads(out.read_text())
    verified = [r for r in result["rows"] if r["verified"] is not None]
    assert len(verified) == 1, [(r["settings"], r.get("verify_note")) for r in result["rows"]]
    assert all(r["verified"] for r in verified), [r["verify_note"] for r in verified]
    assert all(r["verified"] is None for r in result["rows"] if r not in verified)
    # The best is a bisect row (the poison alone); the next test verifies a bisect-off row.
    assert verified[0] is result["rows"][result["recommended"]]
    assert verified[0]["settings"]["BisectBatchOnFunctionError"] and verified[0]["good_in_failure_records"] == 0


def test_verify_agrees_with_bisect_off_where_the_batch_goes_whole(tmp_path: Path) -> None:
    from harness.deploy.sources import SourceSpec, open_source
    from harness.explore import explore, load_base, parse_sets
    from harness.explore.verify import verify
    from harness.scenarios import load_scenarios

    source = open_source(SourceSpec("template", EXAMPLE / "template.yaml"), cache_dir=tmp_path)
    scenario = next(s for s in load_scenarios(EXAMPLE / "scenarios") if s.name == "kinesis-poison-isolated-by-bisect")
    base = load_base(scenario, source)
    result = explore(base, parse_sets(["BisectBatchOnFunctionError=false", "MaximumRetryAttempts=0"]))
    off = next(i for i, r in enumerate(result["rows"]) if not r["settings"]["BisectBatchOnFunctionError"])
    # Only the bisect-off row: make it the best so verify runs it.
    result["rows"] = [result["rows"][off]]
    result["pareto"], result["recommended"] = [0], 0
    verify(result, base, source, 1)
    row = result["rows"][0]
    assert row["records_in_failure_records"] == 10 and row["good_in_failure_records"] == 9
    assert row["verified"] is True, row["verify_note"]
