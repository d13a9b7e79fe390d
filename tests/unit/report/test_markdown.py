"""The Markdown summary: verdicts, conservation totals, fidelity matrix, links into the HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from report_testkit import Dom

from harness.report import prepare, write_report
from harness.report.markdown import cell, render_markdown


def _table(md: str, heading: str) -> list[list[str]]:
    """Rows of the first table after `heading`, split on unescaped pipes."""
    lines = md.split(f"## {heading}\n", 1)[1].strip().splitlines()
    rows = []
    for line in lines:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.replace("\\|", "\x00").strip("|").split("|")]
        rows.append([c.replace("\x00", "\\|") for c in cells])
    return rows


def test_verdict_table(rich_result: dict[str, Any]) -> None:
    md = render_markdown(prepare(rich_result))
    rows = _table(md, "Verdicts")
    assert rows[0] == ["scenario", "verdict", "spec §", "duration", "failing checks (expected vs observed)"]
    assert all(len(r) == 5 for r in rows), "an unescaped pipe split a row"
    assert [r[1] for r in rows[2:]] == ["✅ pass", "❌ fail", "💥 error"]
    assert 'expected \\["a3"\\]' in rows[3][4] and "observed" in rows[3][4]
    assert rows[4][4].startswith("error: RuntimeError")
    assert "**1/3 scenarios passed.**" in md


def test_conservation_totals_and_lost(rich_result: dict[str, Any]) -> None:
    md = render_markdown(prepare(rich_result))
    rows = _table(md, "Conservation")
    assert rows[-1] == ["**overall**", "20", "15", "1", "2", "0", "**⚠ 2**"]
    assert rows[4][1:] == ["n/a"] * 6  # the errored scenario has no audit
    assert "**2 record(s) lost:**" in md and "- bisect-two-shards: b7" in md


def test_fidelity_matrix(demo_result: dict[str, Any]) -> None:
    rows = _table(render_markdown(prepare(demo_result)), "Fidelity (rule × backend)")
    assert rows[0] == ["rule", "spec §", "embedded", "localstack", "aws"]
    assert rows[2][2:4] == ["✅ matches AWS", "❌ diverges: accepted and ignored: the whole batch is retried"]
    assert rows[-1][-1] == "➖ not run: opt-in: needs credentials"


def test_links_land_on_html_anchors(tmp_path: Path, rich_result: dict[str, Any]) -> None:
    paths = write_report(rich_result, tmp_path)
    md = paths["markdown"].read_text(encoding="utf-8")
    ids = {el["attrs"]["id"] for el in Dom(paths["html"].read_text(encoding="utf-8")).elements if "id" in el["attrs"]}
    import re

    targets = re.findall(r"\]\(report\.html#([^)]+)\)", md)
    assert len(targets) == 3 and set(targets) <= ids
    assert "[report.html](report.html)" in md


def test_cell_neutralises_markup() -> None:
    assert cell("a|b\nc <script>") == "a\\|b c &lt;script&gt;"
    assert cell("x" * 500).endswith("…") and len(cell("x" * 500)) == 200
    assert cell({"k": [1]}) == '{"k": \\[1\\]}'
