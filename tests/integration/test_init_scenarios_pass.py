"""The starter scenarios `shardproof init` writes pass on the stack as it stands, unless its settings
lose data, which the scenario then says: the Kinesis example, copied without its scenarios into a
folder of its own (a team's repository), init, then a run."""

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
    main(["scenarios", "run", "--json", "result.json"])
    result = json.loads((repo / "result.json").read_text())
    by_name = {s["name"]: s for s in result["scenarios"]}
    assert len(by_name) == 6
    for name, sc in by_name.items():
        says_loss = "Data loss:" in sc.get("description", "") or "Data loss:" in _description(repo, name)
        if not says_loss:
            assert sc["verdict"] == "pass", (name, [c for c in sc["checks"] if not c["passed"]])
            continue
        # The scenario said its settings lose data; the verdict names exactly that, and only that.
        failed = [c["name"] for c in sc["checks"] if not c["passed"]]
        assert sc["verdict"] == "pass" or (failed and all(n.startswith("no good item lost") for n in failed)), (name, failed)
    failing = [s for s in result["scenarios"] if s["name"].startswith("one-item-fails-")]
    assert all(s["conservation"]["lost"] == 0 and s["conservation"]["in_failure_records"] >= 1 for s in failing)
    # A partial-response mapping gets the item reported in batchItemFailures (not a failed batch), and
    # its scenario says that the records after it share its failure record (spec 0.3, 2.4).
    partial = _description(repo, "one-item-fails-partial-payment-processor-stream")
    assert "with partial batch responses the records after the failing one" in partial


def _description(repo: Path, name: str) -> str:
    import yaml

    for path in (repo / "scenarios").glob("*.yaml"):
        for entry in yaml.safe_load(path.read_text()) or []:
            if entry.get("name") == name:
                return str(entry.get("description", ""))
    return ""
