"""The fidelity matrix: for each spec rule and each backend, does the backend do what AWS does.

The runner reports one row per (rule, backend); the matrix pivots them so a reader sees at a
glance which backend diverges where, and why. A cell never silently disappears: a missing
combination shows as "not run", and duplicates keep every reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

STATUS_LABEL = {"matches": "matches AWS", "diverges": "diverges", "consumer-differs": "consumer differs from its scenario",
                "not-run": "not run"}
_ICON = {"matches": "✅", "diverges": "❌", "consumer-differs": "⚠", "not-run": "➖"}  # Markdown has no cell colours
_RANK = {"diverges": 3, "consumer-differs": 2, "matches": 1, "not-run": 0}


@dataclass
class Cell:
    status: str = "not-run"
    reasons: list[str] = field(default_factory=list)


@dataclass
class Matrix:
    rules: list[tuple[str, str]]   # (rule, spec section), first-seen order
    backends: list[str]
    cells: dict[tuple[str, str], Cell]

    def cell(self, rule: str, backend: str) -> Cell:
        return self.cells.get((rule, backend)) or Cell("not-run", ["no row for this rule and backend in the result"])


def build_matrix(rows: list[dict[str, Any]]) -> Matrix:
    """Pivot rows into rule x backend; with duplicate rows the worst status wins, all reasons stay."""
    rules: list[tuple[str, str]] = []
    seen_rules: set[str] = set()
    backends: list[str] = []
    cells: dict[tuple[str, str], Cell] = {}
    for row in rows:
        rule, backend, status = row["rule"], row["backend"], row["status"]
        if rule not in seen_rules:
            seen_rules.add(rule)
            rules.append((rule, str(row.get("spec") or "")))
        if backend not in backends:
            backends.append(backend)
        cell = cells.setdefault((rule, backend), Cell(status))
        if _RANK[status] > _RANK[cell.status]:
            cell.status = status
        reason = str(row.get("reason") or "")
        if reason and reason not in cell.reasons:
            cell.reasons.append(reason)
    return Matrix(rules, backends, cells)


def matrix_html(rows: list[dict[str, Any]]) -> str:
    m = build_matrix(rows)
    if not m.rules:
        return '<p class="note">No fidelity rows in this result.</p>'
    head = "".join(f"<th>{escape(b)}</th>" for b in m.backends)
    body = []
    for rule, spec in m.rules:
        tds = []
        for b in m.backends:
            c = m.cell(rule, b)
            reason = "; ".join(c.reasons)
            tds.append(f'<td class="fid fid-{c.status}" data-backend="{escape(b)}" data-status="{c.status}">'
                       f'<span class="fid-status">{STATUS_LABEL[c.status]}</span>'
                       + (f'<div class="fid-reason">{escape(reason)}</div>' if reason else "") + "</td>")
        body.append(f'<tr class="fid-row"><th scope="row">{escape(rule)}</th><td class="spec">{escape(spec)}</td>'
                    + "".join(tds) + "</tr>")
    return (f'<table class="fidelity"><thead><tr><th>rule</th><th>spec §</th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def matrix_markdown(rows: list[dict[str, Any]], cell_text: Any) -> str:
    """`cell_text` escapes text for a Markdown table cell (owned by the Markdown renderer)."""
    m = build_matrix(rows)
    if not m.rules:
        return "_No fidelity rows in this result._\n"
    lines = ["| rule | spec § | " + " | ".join(cell_text(b) for b in m.backends) + " |",
             "|---|---|" + "---|" * len(m.backends)]
    for rule, spec in m.rules:
        cells = []
        for b in m.backends:
            c = m.cell(rule, b)
            mark = f"{_ICON[c.status]} {STATUS_LABEL[c.status]}"
            cells.append(cell_text(mark + (": " + "; ".join(c.reasons) if c.reasons else "")))
        lines.append(f"| {cell_text(rule)} | {cell_text(spec)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


__all__ = ["Cell", "Matrix", "STATUS_LABEL", "build_matrix", "matrix_html", "matrix_markdown"]
