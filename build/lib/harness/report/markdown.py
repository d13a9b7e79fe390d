"""The Markdown summary: what a CI job summary or a pull-request comment can show.

It carries the verdicts, conservation totals and the fidelity matrix, and links into the HTML
report for the timelines; a cell's text can hold anything, so pipes, newlines and markup
characters are neutralised so a journal value cannot break the table or inject HTML.
"""

from __future__ import annotations

import json
from typing import Any

from harness.report.conservation import totals
from harness.report.fidelity import matrix_markdown
from harness.report.model import CONSERVATION_FIELDS, anchor

CELL_MAX = 200
_MD_ESCAPES = str.maketrans({"|": "\\|", "<": "&lt;", ">": "&gt;", "`": "'", "\n": " ", "\r": " ",
                             "[": "\\[", "]": "\\]", "*": "\\*", "_": "\\_"})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def cell(value: Any, limit: int = CELL_MAX) -> str:
    """One Markdown table cell: single line, escaped, shortened."""
    text = _text(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.translate(_MD_ESCAPES)


_ICON = {"pass": "✅ pass", "fail": "❌ fail", "error": "💥 error"}


def render_markdown(result: dict[str, Any], html_name: str = "report.html") -> str:
    """The summary; `result` must already be validated and redacted."""
    run, scenarios = result["run"], result["scenarios"]
    passed = sum(1 for s in scenarios if s["verdict"] == "pass")
    out = ["# Scenario report", "",
           f"backend **{cell(run['backend'])}** · started {cell(run['started'])} · wall {run['wall_s']:.1f} s · "
           f"harness {cell(run['harness_version'])}", "",
           f"**{passed}/{len(scenarios)} scenarios passed.** Full report with timelines: [{html_name}]({html_name})", "",
           "## Verdicts", "",
           "| scenario | verdict | spec § | duration | failing checks (expected vs observed) |", "|---|---|---|---|---|"]
    for i, sc in enumerate(scenarios):
        failing = [f"{c['name']}{' §' + str(c['spec']) if c.get('spec') else ''}: expected "
                   f"{_text(c['expected'])}, observed {_text(c['observed'])}" for c in sc["checks"] if not c["passed"]]
        if sc.get("error"):
            failing.insert(0, "error: " + sc["error"])
        link = f"[{cell(sc['name'])}]({html_name}#{anchor(i, sc['name'])})"
        out.append(f"| {link} | {_ICON[sc['verdict']]} | {cell(', '.join(sc['spec_sections']))} | "
                   f"{sc['wall_s']:.2f} s | {cell('; '.join(failing), 600) if failing else '—'} |")
    out += ["", "## Conservation", "",
            "| scenario | " + " | ".join(k.replace("_", " ") for k in CONSERVATION_FIELDS) + " |",
            "|---|" + "---:|" * len(CONSERVATION_FIELDS)]
    for sc in scenarios:
        cons = sc.get("conservation")
        if cons:
            out.append(f"| {cell(sc['name'])} | " + " | ".join(_count(cons, k) for k in CONSERVATION_FIELDS) + " |")
        else:
            out.append(f"| {cell(sc['name'])} | " + " | ".join("n/a" for _ in CONSERVATION_FIELDS) + " |")
    total = totals(scenarios)
    out.append("| **overall** | " + " | ".join(_count(total, k) for k in CONSERVATION_FIELDS) + " |")
    if total["lost_records"]:
        out += ["", f"**{len(total['lost_records'])} record(s) lost:**", ""]
        out += [f"- {cell(r)}" for r in total["lost_records"]]
    noted = [sc for sc in scenarios if sc["notes"] or sc["lint"] or sc["runtimes"]]
    if noted:
        out += ["", "## Stack notes and lint", ""]
        for sc in noted:
            for fn, r in sorted(sc["runtimes"].items()):
                out.append(f"- {cell(sc['name'])}: function {cell(fn)} ({cell(r.get('runtime'))}) ran on "
                           f"{cell(r.get('version') or '?')}")
            out += [f"- {cell(sc['name'])}: {cell(n, 400)}" for n in sc["notes"]]
            out += [f"- {cell(sc['name'])}: lint {cell(f.get('rule'))} (spec § {cell(f.get('spec_section'))})"
                    f"{', seen ' + str(f['observed']) + ' time(s)' if f.get('observed') else ''}: "
                    f"{cell(f.get('message'), 400)}" for f in sc["lint"]]
    out += ["", "## Fidelity (rule × backend)", "", matrix_markdown(result["fidelity"], cell)]
    return "\n".join(out).rstrip() + "\n"


def _count(cons: dict[str, Any], key: str) -> str:
    n = cons[key]
    return f"**⚠ {n}**" if key == "lost" and n else str(n)


__all__ = ["cell", "render_markdown"]
