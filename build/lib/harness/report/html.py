"""The self-contained HTML report: one file, inline CSS, no scripts, no external assets.

It has to open from a CI artifact or an e-mail attachment with no network, so everything it shows
is inside the file. Every piece of result or journal text goes through html.escape: journal data
is whatever the functions under test logged.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from harness.report.conservation import balanced, totals
from harness.report.fidelity import matrix_html
from harness.report.model import CONSERVATION_FIELDS, anchor
from harness.report.timeline import legend_html, render_timeline

JOURNAL_ROWS_MAX = 5000  # rows shown inline; the journal file itself stays the full record
CELL_MAX = 400

CSS = """
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2933;
margin:0 auto;padding:24px 32px;max-width:1400px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 10px;border-bottom:2px solid #e4e7eb;padding-bottom:4px}
h3{font-size:16px;margin:24px 0 8px}.run{color:#52606d;margin:0 0 8px}
table{border-collapse:collapse;margin:6px 0 12px;width:100%}th,td{border:1px solid #d9e2ec;padding:5px 8px;
text-align:left;vertical-align:top}thead th{background:#f0f4f8}tbody th{font-weight:600;background:#fafbfc}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:700;font-size:12px;color:#fff;
text-transform:uppercase;letter-spacing:.03em}.badge-pass{background:#2e7d32}.badge-fail{background:#c62828}
.badge-error{background:#6a1b9a}.banner{padding:10px 14px;border-radius:6px;font-weight:600;margin:12px 0}
.banner-pass{background:#e8f5e9;color:#1b5e20}.banner-fail{background:#ffebee;color:#b71c1c}
.num{text-align:right;font-variant-numeric:tabular-nums}.lost{background:#ffcdd2;color:#b71c1c;font-weight:700}
.total th,.total td{font-weight:700;background:#f0f4f8}.failing{margin:0;padding-left:18px}.failing li{margin:2px 0}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}pre{white-space:pre-wrap;word-break:break-word;
margin:0}.failing .exp,.check-fail .exp{color:#1b5e20}.failing .obs,.check-fail .obs{color:#b71c1c}.spec{white-space:nowrap;color:#52606d}
.fid-matches{background:#e8f5e9}.fid-diverges{background:#ffebee}.fid-not-run{background:#f5f5f5;color:#757575}
.fid-consumer-differs{background:#fff8e1}.notes,.lint{margin:6px 0;font-size:13px}.lint{color:#8d6e00}
.notes ul,.lint ul{margin:2px 0;padding-left:18px}
.fid-status{font-weight:700}.fid-reason{font-size:12px;margin-top:2px}
.timeline-wrap{overflow-x:auto;border:1px solid #d9e2ec;border-radius:6px;padding:4px;background:#fff}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;font-size:12px;color:#52606d;margin:6px 0 12px}
.legend .key{display:inline-flex;align-items:center;gap:5px}.note{color:#8d6e00}
.error{background:#fff3e0;border-left:4px solid #ef6c00;padding:8px 10px}
details{margin:6px 0}summary{cursor:pointer;color:#334e68}.journal td{font-size:12px}
.check-fail{background:#fff5f5}.scenario{border-top:1px solid #e4e7eb;margin-top:20px}
"""


def _json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=False)


def _short(value: Any, limit: int = CELL_MAX) -> str:
    text = value if isinstance(value, str) else _json(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _badge(verdict: str) -> str:
    return f'<span class="badge badge-{escape(verdict)}">{escape(verdict)}</span>'


def _run_header(result: dict[str, Any]) -> str:
    run = result["run"]
    scenarios = result["scenarios"]
    counts = {v: sum(1 for s in scenarios if s["verdict"] == v) for v in ("pass", "fail", "error")}
    ok = bool(scenarios) and counts["pass"] == len(scenarios)
    banner = (f'<div class="banner banner-{"pass" if ok else "fail"}" id="overall">'
              f'{"All scenarios passed" if ok else "Not all scenarios passed"}: {counts["pass"]} pass, '
              f'{counts["fail"]} fail, {counts["error"]} error, of {len(scenarios)}</div>')
    info = run.get("backend_info") or {}
    info_html = (f"<details><summary>backend details</summary><pre>{escape(json.dumps(info, indent=2, default=str))}"
                 "</pre></details>") if info else ""
    return (f"<h1>Scenario report</h1><p class=\"run\">backend <b>{escape(str(run['backend']))}</b> · started "
            f"{escape(str(run['started']))} · wall {run['wall_s']:.1f} s · harness "
            f"{escape(str(run['harness_version']))}</p>{banner}{info_html}")


def _failing_checks(sc: dict[str, Any]) -> str:
    items = []
    if sc.get("error"):
        items.append(f'<li class="obs">error: {escape(_short(sc["error"]))}</li>')
    for c in sc["checks"]:
        if c["passed"]:
            continue
        spec = f' <span class="spec">§{escape(str(c["spec"]))}</span>' if c.get("spec") else ""
        items.append(f'<li><b>{escape(c["name"])}</b>{spec}<br>expected <code class="exp">'
                     f'{escape(_short(c["expected"]))}</code> · observed <code class="obs">'
                     f'{escape(_short(c["observed"]))}</code></li>')
    return f'<ul class="failing">{"".join(items)}</ul>' if items else "—"


def _verdict_table(scenarios: list[dict[str, Any]]) -> str:
    rows = []
    for i, sc in enumerate(scenarios):
        rows.append(f'<tr class="verdict-row verdict-{escape(sc["verdict"])}" data-scenario="{escape(sc["name"])}">'
                    f'<th scope="row"><a href="#{anchor(i, sc["name"])}">{escape(sc["name"])}</a><br>'
                    f'<small>{escape(sc["title"])}</small></th><td>{_badge(sc["verdict"])}</td>'
                    f'<td class="spec">{escape(", ".join(sc["spec_sections"]))}</td>'
                    f'<td class="num">{sc["wall_s"]:.2f} s</td>'
                    f'<td class="num">{sum(c["passed"] for c in sc["checks"])}/{len(sc["checks"])}</td>'
                    f'<td>{_failing_checks(sc)}</td></tr>')
    if not rows:
        return '<p class="note">This result has no scenarios.</p>'
    return ('<table class="verdicts"><thead><tr><th>scenario</th><th>verdict</th><th>spec §</th><th>duration</th>'
            f'<th>checks passed</th><th>failing checks: expected vs observed</th></tr></thead><tbody>{"".join(rows)}'
            "</tbody></table>")


def _cons_cells(cons: dict[str, Any]) -> str:
    cells = []
    for k in CONSERVATION_FIELDS:
        cls = "num lost" if k == "lost" and cons[k] else "num"
        cells.append(f'<td class="{cls}" data-field="{k}">{cons[k]}</td>')
    lost = cons.get("lost_records") or []
    detail = ("<details><summary>" + f"{len(lost)} lost record(s)</summary><pre>"
              + escape("\n".join(lost)) + "</pre></details>") if lost else ""
    note = "" if balanced(cons) else '<div class="note">buckets do not add up to injected</div>'
    return "".join(cells) + f"<td>{detail}{note}</td>"


def _conservation_table(scenarios: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{k.replace('_', ' ')}</th>" for k in CONSERVATION_FIELDS)
    rows = []
    for i, sc in enumerate(scenarios):
        cons = sc.get("conservation")
        name = f'<a href="#{anchor(i, sc["name"])}">{escape(sc["name"])}</a>'
        if not cons:
            rows.append(f'<tr class="cons-row"><th scope="row">{name}</th>'
                        f'<td colspan="{len(CONSERVATION_FIELDS) + 1}" class="note">no audit</td></tr>')
        else:
            rows.append(f'<tr class="cons-row"><th scope="row">{name}</th>{_cons_cells(cons)}</tr>')
    total = totals(scenarios)
    rows.append(f'<tr class="total"><th scope="row">overall ({total["audited"]} audited)</th>{_cons_cells(total)}</tr>')
    return (f'<table class="conservation"><thead><tr><th>scenario</th>{head}<th>lost records</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _scenario_section(i: int, sc: dict[str, Any]) -> str:
    parts = [f'<section class="scenario" id="{anchor(i, sc["name"])}">'
             f'<h3>{escape(sc["title"])} {_badge(sc["verdict"])}</h3>'
             f'<p><code>{escape(sc["name"])}</code> · spec § {escape(", ".join(sc["spec_sections"]) or "—")} · '
             f'{sc["wall_s"]:.2f} s</p>']
    if sc["description"]:
        parts.append(f"<p>{escape(sc['description'])}</p>")
    if sc.get("error"):
        parts.append(f'<div class="error"><b>error</b><pre>{escape(sc["error"])}</pre></div>')
    parts.append(_stack_notes_html(sc))
    parts.append(f'<div class="timeline-wrap">{render_timeline(sc["journal"], svg_id="timeline-" + str(i + 1))}</div>')
    if sc["checks"]:
        rows = "".join(
            f'<tr class="check {"check-pass" if c["passed"] else "check-fail"}"><td>{_badge("pass" if c["passed"] else "fail")}'
            f'</td><td>{escape(c["name"])}</td><td class="spec">{escape(str(c.get("spec") or ""))}</td>'
            f'<td><pre class="exp">{escape(_json(c["expected"]))}</pre></td>'
            f'<td><pre class="obs">{escape(_json(c["observed"]))}</pre></td></tr>' for c in sc["checks"])
        parts.append('<table class="checks"><thead><tr><th></th><th>check</th><th>spec §</th><th>expected</th>'
                     f"<th>observed</th></tr></thead><tbody>{rows}</tbody></table>")
    for label in ("expected", "observed"):
        if sc[label]:
            parts.append(f"<details><summary>{label} (full)</summary><pre>"
                         f"{escape(json.dumps(sc[label], indent=2, default=str, ensure_ascii=False))}</pre></details>")
    parts.append(_journal_details(sc["journal"]))
    parts.append("</section>")
    return "".join(parts)


def _stack_notes_html(sc: dict[str, Any]) -> str:
    """How the stack ran here (language versions, skipped resources, local installs) and lint warnings."""
    parts = []
    if sc.get("blame") == "consumer":
        parts.append('<p class="note"><b>The consumer did not behave as this scenario declares</b> (handler): the '
                     'failing checks are its doing, not a difference from AWS.</p>')
    if sc["runtimes"]:
        rows = "".join(f"<li><code>{escape(fn)}</code>: {escape(str(r.get('runtime')))} ran on "
                       f"{escape(str(r.get('version') or '?'))}</li>" for fn, r in sorted(sc["runtimes"].items()))
        parts.append(f'<div class="notes"><b>functions ran on</b><ul>{rows}</ul></div>')
    if sc["notes"]:
        parts.append('<div class="notes"><b>notes</b><ul>' + "".join(f"<li>{escape(n)}</li>" for n in sc["notes"])
                     + "</ul></div>")
    if sc["lint"]:
        items = "".join(
            f"<li><b>{escape(str(f.get('rule')))}</b> (spec § {escape(str(f.get('spec_section')))})"
            f"{' · seen ' + escape(str(f['observed'])) + ' time(s) in this run' if f.get('observed') else ''}: "
            f"{escape(str(f.get('message')))}<br><i>{escape(str(f.get('consequence')))}</i></li>" for f in sc["lint"])
        parts.append(f'<div class="lint"><b>lint</b><ul>{items}</ul></div>')
    return "".join(parts)


def _journal_details(journal: list[dict[str, Any]]) -> str:
    if not journal:
        return ""
    shown = journal[:JOURNAL_ROWS_MAX]
    t0 = next((e["ts"] for e in shown if isinstance(e.get("ts"), (int, float))), 0.0)
    rows = []
    for e in shown:
        ts = e.get("ts")
        rel = f"+{ts - t0:.3f}" if isinstance(ts, (int, float)) and not isinstance(ts, bool) else escape(str(ts))
        fields = {k: v for k, v in e.items() if k not in ("seq", "ts", "kind")}
        rows.append(f'<tr><td class="num">{escape(str(e.get("seq", "")))}</td><td class="num">{rel}</td>'
                    f'<td>{escape(str(e.get("kind", "")))}</td><td><pre>{escape(_short(fields, 2000))}</pre></td></tr>')
    more = (f'<p class="note">{len(journal) - len(shown)} more entries not shown; the journal file has them.</p>'
            if len(journal) > len(shown) else "")
    return (f"<details><summary>journal ({len(journal)} entries)</summary>{more}<table class=\"journal\"><thead><tr>"
            f"<th>seq</th><th>t (s)</th><th>kind</th><th>fields</th></tr></thead><tbody>{''.join(rows)}</tbody>"
            "</table></details>")


def render_html(result: dict[str, Any]) -> str:
    """The whole report; `result` must already be validated and redacted."""
    scenarios = result["scenarios"]
    title = f"Scenario report: {result['run']['backend']}"
    body = [_run_header(result),
            '<h2 id="verdicts">Verdicts</h2>', _verdict_table(scenarios),
            '<h2 id="conservation">Conservation</h2>',
            "<p>Every injected record must end processed, filtered, in a failure record, or knowingly dropped; "
            "<b>lost</b> is what the audit could not account for.</p>", _conservation_table(scenarios),
            '<h2 id="fidelity">Fidelity: rule × backend</h2>', matrix_html(result["fidelity"]),
            '<h2 id="scenarios">Scenarios</h2>',
            "<p>Timeline: one lane per shard; x is time order (bursts stretched, waits compressed and labelled); "
            "each bar is one invocation labelled with its record count; a split puts the halves one row down, "
            "joined to the batch they came from, so the bisect tree reads top to bottom. "
            "Hover a bar or marker for details.</p>", legend_html()]
    body.extend(_scenario_section(i, sc) for i, sc in enumerate(scenarios))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


__all__ = ["render_html"]
