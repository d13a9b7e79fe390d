"""The demo-run bridge: a saved `shardproof demo` directory becomes a one-scenario result."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.report import ReportInputError, write_report
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
    with pytest.raises(FileNotFoundError, match="run `shardproof demo` first"):
        result_from_demo_dir(tmp_path / "nowhere")
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.parametrize("journal, summary, message", [
    ('{"kind": "injected"}\n', "{}", None),  # no timestamp anywhere: renders from t = 0
    ('{"kind": "injected", "ts": 1}\n', "[1]", "summary.json: expected an object, got list"),
    ('{"kind": "injected", "ts": 1}\n', '{"wall_s": "x"}', "summary.json: wall_s: expected a number"),
    ('{"kind": "injected", "ts": 1}\n[1]\n', "{}", "journal.jsonl: entry 2: expected an object, got list"),
    ('{"kind": "injected", "ts": 1e300}\n', "{}", "journal.jsonl: ts: 1e.300 is not a usable Unix time"),
])
def test_bad_demo_files_name_the_file_and_field(tmp_path: Path, journal: str, summary: str,
                                                message: str | None) -> None:
    """These once escaped as KeyError / AttributeError / ValueError tracebacks from `--from-demo`."""
    (tmp_path / "journal.jsonl").write_text(journal, encoding="utf-8")
    (tmp_path / "summary.json").write_text(summary, encoding="utf-8")
    if message is None:
        assert result_from_demo_dir(tmp_path)["scenarios"][0]["conservation"]["injected"] == 1
        return
    with pytest.raises(ReportInputError, match=message):
        result_from_demo_dir(tmp_path)
