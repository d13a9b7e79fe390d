"""Turn a saved demo run (journal.jsonl + summary.json) into a one-scenario runner result.

The report is built against the runner's result schema, but a real run's journal is the only
honest source of ESM behaviour to test the timeline with; this bridges the two. Its conservation
numbers come from the journal alone (sequence numbers seen committed, filtered, written or
dropped) and are an approximation for fixtures and previews: the runner owns the real audit.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.journal import read_journal
from harness.report.model import ReportInputError

# Entries a report never needs: deployment chatter, which would only bloat fixtures.
NOISE_KINDS = frozenset({"deploy", "deploy_note"})


def conservation_from_journal(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of distinct sequence numbers per ending; `lost` is what is left of `injected`."""
    buckets: dict[str, set[str]] = {"processed": set(), "filtered": set(), "in_failure_records": set(), "dropped": set()}
    for e in entries:
        kind = e.get("kind")
        if kind == "invoke_result":
            buckets["processed"].update(map(str, e.get("committed_sequence_numbers") or []))
        elif kind == "filtered":
            buckets["filtered"].update(map(str, e.get("sequence_numbers") or []))
        elif kind == "destination_write":
            buckets["in_failure_records"].update(map(str, e.get("sequence_numbers") or []))
        elif kind == "dropped":
            buckets["dropped"].update(map(str, e.get("sequence_numbers") or []))
    injected = sum(1 for e in entries if e.get("kind") == "injected")
    counts = {k: len(v) for k, v in buckets.items()}
    return {"injected": injected, **counts, "lost": max(0, injected - sum(counts.values())), "lost_records": []}


def result_from_demo_dir(report_dir: Path, *, name: str = "demo-bisect-poison",
                         title: str = "Bisect isolates one poison order",
                         spec_sections: list[str] | None = None) -> dict[str, Any]:
    """A runner-shaped result with one scenario, from `shardproof demo`'s report directory."""
    report_dir = Path(report_dir)
    journal_path, summary_path = report_dir / "journal.jsonl", report_dir / "summary.json"
    for path in (journal_path, summary_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not found; run `shardproof demo` first (it writes {report_dir})")
    journal = read_journal(journal_path)
    for line, entry in enumerate(journal, 1):
        if not isinstance(entry, dict):
            raise ReportInputError(f"{journal_path}: entry {line}: expected an object, got {type(entry).__name__}")
    entries = [e for e in journal if e.get("kind") not in NOISE_KINDS]
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    if not isinstance(summary, dict):
        raise ReportInputError(f"{summary_path}: expected an object, got {type(summary).__name__}")
    wall_s = summary.get("wall_s", 0.0)
    if not isinstance(wall_s, (int, float)) or isinstance(wall_s, bool):
        raise ReportInputError(f"{summary_path}: wall_s: expected a number, got {wall_s!r:.80}")
    checks = summary.get("checks") or []
    started = next((e for e in entries if e.get("kind") == "backend_started"), {})
    ts = next((e["ts"] for e in entries if isinstance(e.get("ts"), (int, float)) and not isinstance(e["ts"], bool)),
              0.0)
    try:
        started_at = datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds")
    except (OverflowError, ValueError, OSError):
        raise ReportInputError(f"{journal_path}: ts: {ts!r} is not a usable Unix time") from None
    return {
        "run": {"backend": started.get("backend", "embedded"),
                "started": started_at,
                "wall_s": float(wall_s), "harness_version": "demo",
                "backend_info": {"endpoint": started.get("endpoint"), **(started.get("details") or {})}},
        "scenarios": [{
            "name": name, "title": title,
            "description": "Nine good orders and one with a negative amount in one batch of ten; bisect on, "
                           "two retries; the poison ends in one S3 failure record and the failure handler alerts.",
            "spec_sections": spec_sections or sorted({str(c.get("spec")) for c in checks if c.get("spec")}),
            "verdict": "pass" if summary.get("passed") else "fail",
            "wall_s": float(wall_s),
            "checks": checks, "expected": {}, "observed": {},
            "conservation": conservation_from_journal(entries),
            "journal": entries, "error": None,
        }],
        "fidelity": [],
    }


__all__ = ["NOISE_KINDS", "conservation_from_journal", "result_from_demo_dir"]
