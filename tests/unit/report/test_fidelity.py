"""The fidelity matrix pivots (rule, backend) rows; a missing pair is 'not run', never blank."""

from __future__ import annotations

from harness.report.fidelity import build_matrix


def _row(rule: str, backend: str, status: str, reason: str = "") -> dict[str, str]:
    return {"rule": rule, "spec": "2.1", "backend": backend, "status": status, "reason": reason}


def test_pivot_order_and_missing_cells() -> None:
    m = build_matrix([_row("bisect", "embedded", "matches"), _row("age", "localstack", "diverges", "never expires"),
                      _row("bisect", "localstack", "diverges", "ignored")])
    assert [r for r, _ in m.rules] == ["bisect", "age"] and m.backends == ["embedded", "localstack"]
    assert m.cell("bisect", "localstack").status == "diverges"
    missing = m.cell("age", "embedded")
    assert missing.status == "not-run" and "no row" in missing.reasons[0]


def test_duplicates_worst_status_wins_and_reasons_kept() -> None:
    m = build_matrix([_row("bisect", "embedded", "matches", "scenario A"),
                      _row("bisect", "embedded", "diverges", "scenario B splits late"),
                      _row("bisect", "embedded", "not-run", "scenario C skipped")])
    cell = m.cell("bisect", "embedded")
    assert cell.status == "diverges"
    assert cell.reasons == ["scenario A", "scenario B splits late", "scenario C skipped"]
