"""The verdict table without a terminal (CI logs): one line per scenario and every failing check whole,
never folded one word per line nor cut."""

from __future__ import annotations

import io

from rich.console import Console

from harness.scenarios.output import render_table

LONG = ("items 0, 2 trimmed from the stream after 24 h while the shard retried item 1 without limit; "
        "nothing reached a failure record, so these records are lost for good") * 2


def result() -> dict:
    check = {"name": "no good record lost", "passed": False, "expected": [], "observed": LONG, "spec": "8"}
    ok = {"name": "bisect isolates the poison", "passed": True, "expected": [[1]], "observed": [[1]], "spec": "2.1"}
    cons = {"injected": 3, "processed": 1, "filtered": 0, "in_failure_records": 0, "dropped": 2, "lost": 0}
    return {"run": {"backend": "embedded", "wall_s": 3.21}, "scenarios": [
        {"name": "default-settings-loss", "spec_sections": ["8"], "verdict": "fail", "checks": [ok, check],
         "conservation": cons, "error": None},
        {"name": "good-orders", "spec_sections": [], "verdict": "pass", "checks": [ok], "conservation": cons,
         "error": None},
        {"name": "broken", "spec_sections": [], "verdict": "error", "checks": [], "conservation": {},
         "error": "SourceError: template.yaml, line 3: not valid YAML"}]}


def test_without_a_terminal_every_failing_check_is_printed_whole_on_its_own_line() -> None:
    out = io.StringIO()
    render_table(result(), Console(file=out, width=80, force_terminal=False))
    lines = out.getvalue().splitlines()
    assert lines[0] == "scenario verdicts on embedded (3.2s)"
    assert lines[1].startswith("FAIL   default-settings-loss  spec 8  checks 1/2  conservation 3 = 1+0+0+2, lost 0")
    assert f"         no good record lost [spec 8]: expected [], observed {LONG}" in lines  # whole, not cut
    assert lines[-3].startswith("ERROR  broken") and lines[-1].strip() == "SourceError: template.yaml, line 3: not valid YAML"
    assert not any(len(line.split()) == 1 and line.strip() not in ("error:",) for line in lines)  # no word per line


def test_on_a_terminal_it_stays_a_table() -> None:
    out = io.StringIO()
    render_table(result(), Console(file=out, width=200, force_terminal=True, color_system=None))
    text = out.getvalue()
    assert "scenario verdicts on embedded" in text and ("┃" in text or "│" in text)
