"""explore.html: the table and a chart of the trade-off on one self-contained page.

Self-contained (inline CSS, inline SVG, no executable script, nothing fetched: no font, library or stylesheet) so it opens from a
CI artifact or an e-mail attachment with no network. The chart puts each combination at (drain
time, good records in failure records or lost): down and left is better; the recommended and
deployed combinations are marked, and the rule that picked the recommendation is printed above.
"""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Any

from harness.explore.choose import RULE, ranked
from harness.explore.grid import PARAMETERS, show_setting
from harness.explore.metrics import METRICS
from harness.explore.render import HEAD, SHORT, varied

W, H, PAD = 720, 360, 56
TICKS = ((1.0, "1 s"), (60.0, "1 min"), (3600.0, "1 h"), (86400.0, "1 day"))

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d232a}
h1{font-size:20px} .rule{background:#f3f6f9;border-left:4px solid #3b73b9;padding:8px 12px}
table{border-collapse:collapse;font-size:13px;margin-top:12px} th,td{border:1px solid #d4dae0;padding:3px 7px}
th{background:#eef1f4} td.n{text-align:right} .diff{background:#fff3b0;font-weight:600}
tr.rec{background:#e4f6e4} tr.dep td:first-child{border-left:4px solid #3b73b9} .lost{color:#b3261e;font-weight:700}
.skip{color:#7a838c} .legend{font-size:12px;color:#4a535c} svg text{font-size:11px;fill:#36404a}
"""


def _x(v: float, hi: float) -> float:
    """Drain time on a log scale: seconds and a day's retention trim on one axis."""
    return PAD + (W - 2 * PAD) * (math.log10(1 + v) / math.log10(1 + hi) if hi > 0 else 0.0)


def _y(v: float, hi: float) -> float:
    return H - PAD - (H - 2 * PAD) * (v / hi if hi > 0 else 0.0)


def chart(result: dict[str, Any]) -> str:
    """Inline SVG: one point per simulated combination."""
    rows = [(i, r) for i, r in enumerate(result["rows"]) if not r.get("skipped")]
    if not rows:
        return "<p>No combination was simulated (every one was skipped).</p>"
    cost = {i: r["good_in_failure_records"] + r["lost"] for i, r in rows}
    xmax = max(r["drain_s"] for _, r in rows)
    ymax = max(max(cost.values()), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" '
             'aria-label="good records in failure records or lost, against drain time">',
             f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#36404a"/>',
             f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="#36404a"/>',
             f'<text x="{W / 2}" y="{H - 14}" text-anchor="middle">drain time (virtual seconds, log scale; '
             f'max {xmax:g})</text>',
             f'<text x="16" y="{H / 2}" transform="rotate(-90 16 {H / 2})" text-anchor="middle">good records in failure '
             'records or lost</text>']
    for v in sorted({0, ymax, ymax // 2}):
        parts.append(f'<text x="{PAD - 6}" y="{_y(v, ymax) + 4:.1f}" text-anchor="end">{v}</text>')
    ticks = {0.0: "0"} | {v: name for v, name in TICKS if v <= xmax}
    for v, name in ticks.items():
        x = _x(v, xmax)
        parts.append(f'<line x1="{x:.1f}" y1="{H - PAD}" x2="{x:.1f}" y2="{H - PAD + 4}" stroke="#36404a"/>'
                     f'<text x="{x:.1f}" y="{H - PAD + 16}" text-anchor="middle">{name}</text>')
    pareto = set(result["pareto"])
    # Drawn last, on top: points often coincide, and the marked ones must stay visible.
    rows.sort(key=lambda ir: (ir[0] == result["recommended"], ir[1]["deployed"], ir[0] in pareto))
    for i, r in rows:
        x, y = _x(r["drain_s"], xmax), _y(cost[i], ymax)
        rec, dep = i == result["recommended"], r["deployed"]
        fill = "#2e9e44" if rec else ("#3b73b9" if dep else ("#e08a1e" if i in pareto else "#9aa4ae"))
        radius = 7 if rec or dep else 5
        label = ", ".join(f"{k}={show_setting(k, r['settings'][k])}" for k in PARAMETERS
                          if r["settings"][k] != result["base"][k]) or "as deployed"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{fill}" fill-opacity="0.8" stroke="#1d232a" '
                     f'stroke-width="0.5"><title>#{i}: {escape(label)}; lost {r["lost"]}, good in failure records '
                     f'{r["good_in_failure_records"]}, drain {r["drain_s"]:g} s</title></circle>')
        if rec or dep:
            tag = " + ".join(t for t, on in (("recommended", rec), ("deployed", dep)) if on)
            parts.append(f'<text x="{x + 9:.1f}" y="{y - 8:.1f}">#{i} {tag}</text>')
    parts.append("</svg>")
    return "".join(parts)


def table(result: dict[str, Any]) -> str:
    keys = varied(result) or list(PARAMETERS)
    base = result["base"]
    pareto = set(result["pareto"])
    verified = any("verified" in r for r in result["rows"])
    head = "".join(f"<th>{escape(k)}</th>" for k in keys) + "".join(f"<th>{escape(HEAD[m])}</th>" for m in METRICS)
    head += "<th>real run</th>" if verified else ""
    lines = [f"<table><thead><tr><th>#</th><th></th>{head}</tr></thead><tbody>"]
    for i in ranked(result["rows"]):
        r = result["rows"][i]
        rec = i == result["recommended"]
        marks = ", ".join(t for t, on in (("recommended", rec), ("deployed", r["deployed"]),
                                          ("Pareto", i in pareto)) if on)
        cls = " ".join(c for c, on in (("rec", rec), ("dep", r["deployed"])) if on)
        cells = [f'<td class="n">{i}</td><td>{marks}</td>']
        for k in keys:
            v = r["settings"][k]
            diff = ' class="diff"' if v != base[k] else ""
            cells.append(f"<td{diff}>{escape(show_setting(k, v))}</td>")
        if r.get("skipped"):
            cells.append(f'<td class="skip" colspan="{len(METRICS)}">skipped: {escape(r["skipped"])}</td>')
        else:
            for m in METRICS:
                lost = ' lost' if m == "lost" and r[m] else ""
                cells.append(f'<td class="n{lost}">{r[m]}</td>')
        if verified:
            v = r.get("verified")
            text = "" if v is None else ("agrees" if v else "DIFFERS")
            cells.append(f'<td title="{escape(r.get("verify_note") or "")}">{text}</td>')
        lines.append(f'<tr class="{cls}">{"".join(cells)}</tr>')
    lines.append("</tbody></table>")
    return "".join(lines)


def render_page(result: dict[str, Any]) -> str:
    base = result["base"]
    rec = result["recommended"]
    deployed = ", ".join(f"{k}={escape(show_setting(k, base[k]))}" for k in PARAMETERS)
    if rec is None:
        pick = "<p>No recommendation: every combination was skipped.</p>"
    else:
        changes = [f"{k}={show_setting(k, result['rows'][rec]['settings'][k])}" for k in PARAMETERS
                   if result["rows"][rec]["settings"][k] != base[k]]
        pick = (f"<p><b>Recommended: row #{rec}</b> — "
                + (escape(", ".join(changes)) if changes else "keep the deployed settings") + ".</p>")
    names = ", ".join(f"{SHORT[k]} = {k}" for k in PARAMETERS)
    data = json.dumps(result).replace("</", "<\\/")  # the result, machine-readable; never closes its tag
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>explore "
            f"{escape(result['scenario'])}</title><style>{CSS}</style></head><body>"
            f"<h1>shardproof explore: {escape(result['scenario'])}</h1>"
            f"<p>Stream: {escape(str(result.get('stream', '')))}; mapping {escape(str(result.get('mapping', '')))} "
            f"as deployed: {deployed}.</p>"
            f'<p class="rule">Recommendation rule: {escape(RULE)}.</p>{pick}'
            f"<h2>Trade-off</h2>{chart(result)}"
            '<p class="legend">Each point is a combination. Green: recommended; blue: deployed; orange: on the Pareto '
            "front (no other combination is at least as good on lost, good records in failure records, duplicates "
            "and drain, and better on one); grey: the rest. Hover a point for its settings.</p>"
            f"<h2>Combinations</h2>{table(result)}"
            '<p class="legend">Highlighted cells differ from the deployed settings. Counts come from the oracle '
            f"(the harness ESM engine over the scenario's records, in virtual time). Column names: {escape(names)}."
            "</p>"
            f'<script type="application/json" id="explore-result">{data}</script>'
            "</body></html>")


def write_page(result: dict[str, Any], directory: Path) -> Path:
    """explore.html and explore.json in `directory`; the page's path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "explore.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    path = directory / "explore.html"
    path.write_text(render_page(result), encoding="utf-8")
    return path
