"""`shardproof explore` from the command line: a template and a scenario file it has not seen,
the JSON contract, the page, and errors that name the flag at fault."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.cli import main

from .stacks import template

SCENARIO = """
name: ledger-poison
title: One bad ledger entry among six
items:
""" + "".join(f"  - {{entry: e-{i}, cents: {100 + i}}}\n" for i in range(6)) + """
poison: [3]
handler: raise
"""
ROW_FIELDS = {"settings", "deployed", "invocations", "deliveries", "duplicate_deliveries", "failure_records",
              "records_in_failure_records", "good_in_failure_records", "lost", "drain_s", "max_blocked_s"}


@pytest.fixture()
def stack(tmp_path: Path) -> tuple[Path, Path]:
    tpl = tmp_path / "ledger.json"
    tpl.write_text(json.dumps(template(BatchSize=6, MaximumRetryAttempts=2)))
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "ledger.yaml").write_text(SCENARIO)
    return tpl, scenarios


def test_explore_writes_the_json_contract_and_a_self_contained_page(stack: tuple[Path, Path], tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    tpl, scenarios = stack
    out = tmp_path / "out.json"
    status = main(["explore", "ledger-poison", "--template", str(tpl), "--scenarios", str(scenarios),
                   "--set", "BisectBatchOnFunctionError=false,true", "--set", "MaximumRecordAgeInSeconds=-1,30",
                   "--json", str(out), "--report-dir", str(tmp_path / "report")])
    assert status == 0
    result = json.loads(out.read_text())
    assert set(result) >= {"scenario", "base", "rows", "pareto", "recommended"}
    assert result["scenario"] == "ledger-poison"
    assert result["base"]["BatchSize"] == 6 and result["base"]["MaximumRetryAttempts"] == 2
    live = [r for r in result["rows"] if not r.get("skipped")]
    skipped = [r for r in result["rows"] if r.get("skipped")]
    assert len(live) == 2 and len(skipped) == 2  # age 30 is outside AWS's range: skipped, with the reason
    assert all("MaximumRecordAgeInSeconds=30" in r["skipped"] for r in skipped)
    for r in live:
        assert set(r) >= ROW_FIELDS
        assert set(r["settings"]) == {"BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor",
                                      "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError",
                                      "FunctionResponseTypes", "TumblingWindowInSeconds", "DestinationConfig"}
    assert result["rows"][result["recommended"]]["settings"]["BisectBatchOnFunctionError"] is True
    table = capsys.readouterr().out
    assert "recommended" in table and "deployed" in table

    page = (tmp_path / "report" / "explore.html").read_text()
    assert "<svg" in page and "fewest lost, then fewest good records in failure records" in page
    # Self-contained: no script or stylesheet fetched from anywhere.
    assert not re.search(r"<script[^>]*\bsrc=", page) and "<link" not in page
    assert not [u for u in re.findall(r"https?://[^\"'\s<>)]+", page) if u != "http://www.w3.org/2000/svg"]
    assert page.count("<circle") == len(live)
    assert json.loads((tmp_path / "report" / "explore.json").read_text()) == result


def test_a_bad_set_names_the_flag(stack: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    tpl, scenarios = stack
    status = main(["explore", "--template", str(tpl), "--scenarios", str(scenarios), "--set", "BatchSize=lots"])
    assert status == 2
    assert "--set BatchSize: value 'lots' is not an integer" in capsys.readouterr().err


def test_an_unknown_scenario_lists_the_known_ones(stack: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    tpl, scenarios = stack
    assert main(["explore", "nope", "--template", str(tpl), "--scenarios", str(scenarios)]) == 2
    assert "known: ledger-poison" in capsys.readouterr().err


def test_without_set_the_default_grid_runs(stack: tuple[Path, Path], tmp_path: Path) -> None:
    tpl, scenarios = stack
    out = tmp_path / "d.json"
    assert main(["explore", "--template", str(tpl), "--scenarios", str(scenarios), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert len(result["rows"]) >= 24 and sum(r["deployed"] for r in result["rows"]) == 1
