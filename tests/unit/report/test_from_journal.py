"""The demo-run bridge: a saved `harness demo` directory becomes a one-scenario result."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.report import write_report
from harness.report.from_journal import conservation_from_journal, result_from_demo_dir


def test_conservation_of_the_demo_journal(demo_result: dict[str, Any]) -> None:
    cons = conservation_from_journal(demo_result["scenarios"][0]["journal"])
    assert cons == {"injected": 10, "processed": 9, "filtered": 0, "in_failure_records": 1, "dropped": 0,
                    "lost": 0, "lost_records": []}


def test_lost_is_what_no_ending_accounts_for() -> None:
    entries = [{"kind": "injected"}] * 3 + [
        {"kind": "invoke_result", "committed_sequence_numbers": ["1"]},
        {"kind": "invoke_result", "committed_sequence_numbers": ["1"]},  # at-least-once: counted once
    ]
    assert conservation_from_journal(entries)["lost"] == 2


def test_round_trip_from_a_demo_directory(tmp_path: Path, demo_result: dict[str, Any]) -> None:
    sc = demo_result["scenarios"][0]
    (tmp_path / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in sc["journal"]), encoding="utf-8")
    (tmp_path / "summary.json").write_text(json.dumps({"passed": True, "wall_s": 5.3, "checks": sc["checks"]}))
    result = result_from_demo_dir(tmp_path)
    assert result["scenarios"][0]["journal"] == sc["journal"]
    assert result["scenarios"][0]["verdict"] == "pass"
    paths = write_report(result, tmp_path / "out")
    assert "demo-bisect-poison" in paths["markdown"].read_text(encoding="utf-8")


def test_missing_demo_directory_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run `harness demo` first"):
        result_from_demo_dir(tmp_path / "nowhere")
    shutil.rmtree(tmp_path, ignore_errors=True)
