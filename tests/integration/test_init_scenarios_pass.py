"""The starter scenarios `shardproof init` writes pass on the stack as it stands: the Kinesis example,
copied without its scenarios into a folder of its own (a team's repository), init, then a run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.cli import main

KINESIS = Path(__file__).resolve().parents[2] / "examples" / "kinesis"


def test_init_then_scenarios_run_passes_on_the_kinesis_example(tmp_path: Path, monkeypatch) -> None:
    repo = tmp_path / "team-kinesis"
    repo.mkdir()
    shutil.copy2(KINESIS / "template.yaml", repo / "template.yaml")
    shutil.copytree(KINESIS / "src", repo / "src")
    monkeypatch.chdir(repo)
    assert main(["init"]) == 0
    status = main(["scenarios", "run", "--json", "result.json"])
    result = json.loads((repo / "result.json").read_text())
    verdicts = {s["name"]: s["verdict"] for s in result["scenarios"]}
    assert status == 0, verdicts
    assert len(verdicts) == 6 and set(verdicts.values()) == {"pass"}
    failing = [s for s in result["scenarios"] if s["name"].startswith("one-item-fails-")]
    assert all(s["conservation"]["lost"] == 0 and s["conservation"]["in_failure_records"] >= 1 for s in failing)
