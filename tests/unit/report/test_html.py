"""The HTML report: verdicts with expected vs observed, conservation with lost highlighted,
the fidelity matrix, a timeline per scenario, all text escaped, nothing loaded from outside."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from report_testkit import HOSTILE, Dom

from harness.report import prepare, write_report
from harness.report.html import render_html


def _dom(result: dict[str, Any]) -> tuple[str, Dom]:
    html = render_html(prepare(result))
    return html, Dom(html)


def test_verdict_rows_show_failing_checks_with_both_sides(rich_result: dict[str, Any]) -> None:
    _, dom = _dom(rich_result)
    rows = dom.find("tr", "verdict-row")
    assert [r["attrs"]["data-scenario"] for r in rows] == ["demo-bisect-poison", "bisect-two-shards", "retention-trim"]
    assert [r["attrs"]["class"].split()[1] for r in rows] == ["verdict-pass", "verdict-fail", "verdict-error"]
    failing = rows[1]["text"]
    assert "failure records" in failing and "§3.2" in failing
    assert 'expected ["a3"]' in failing and "observed" in failing and HOSTILE in failing  # shown as text
    assert "poison isolated" not in failing  # passing checks stay out of the failing column
    assert "RuntimeError: backend died" in rows[2]["text"]
    assert "16/16" in rows[0]["text"] and "1/2" in rows[1]["text"]
    assert dom.find("div", "banner-fail")[0]["text"].startswith("Not all scenarios passed: 1 pass, 1 fail, 1 error")


def test_all_pass_banner(demo_result: dict[str, Any]) -> None:
    _, dom = _dom(demo_result)
    assert dom.find("div", "banner-pass")[0]["text"] == "All scenarios passed: 1 pass, 0 fail, 0 error, of 1"


def test_conservation_per_scenario_and_overall_with_lost_highlighted(rich_result: dict[str, Any]) -> None:
    _, dom = _dom(rich_result)
    rows = dom.find("tr", "cons-row")
    assert len(rows) == 3 and "no audit" in rows[2]["text"]
    lost = dom.find("td", "lost")
    assert [c["text"] for c in lost] == ["2", "2"]  # the failing scenario and the overall row
    total = dom.find("tr", "total")[0]
    cells = {c["attrs"]["data-field"]: c["text"] for c in _children(dom, total) if "data-field" in c["attrs"]}
    assert cells == {"injected": "20", "processed": "15", "filtered": "1", "in_failure_records": "2",
                     "dropped": "0", "lost": "2"}
    assert "b7" in total["text"] and "bisect-two-shards: b7" in total["text"]


def _children(dom: Dom, parent: dict[str, Any]) -> list[dict[str, Any]]:
    start = dom.elements.index(parent)
    end = next((i for i, el in enumerate(dom.elements[start + 1:], start + 1) if el["tag"] == "tr"), len(dom.elements))
    return dom.elements[start + 1:end]


def test_fidelity_matrix_cells(rich_result: dict[str, Any]) -> None:
    _, dom = _dom(rich_result)
    assert len(dom.find("tr", "fid-row")) == 6
    assert len(dom.find("td", "fid-matches")) == 5
    diverging = dom.find("td", "fid-diverges")
    assert {c["attrs"]["data-backend"] for c in diverging} == {"localstack", "embedded"}
    assert any("whole batch is retried" in c["text"] for c in diverging)
    not_run = dom.find("td", "fid-not-run", data_backend="aws")
    assert len(not_run) == 6 and any("needs credentials" in c["text"] for c in not_run)


def test_every_scenario_has_a_section_with_timeline_and_anchor(rich_result: dict[str, Any]) -> None:
    _, dom = _dom(rich_result)
    sections = dom.find("section", "scenario")
    ids = [s["attrs"]["id"] for s in sections]
    assert ids == ["scenario-1-demo-bisect-poison", "scenario-2-bisect-two-shards", "scenario-3-retention-trim"]
    links = {a["attrs"]["href"] for a in dom.find("a")}
    assert {f"#{i}" for i in ids} <= links
    assert len(dom.find("svg", "timeline")) == 2  # the errored scenario has no journal
    assert len(dom.find("rect", "batch")) == 9 + 10
    assert "No ESM activity" in sections[2]["text"]


def test_hostile_text_is_escaped_everywhere(rich_result: dict[str, Any]) -> None:
    html, dom = _dom(rich_result)
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert not dom.find("script") and not dom.find("img")
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8


def test_self_contained_no_external_assets(rich_result: dict[str, Any]) -> None:
    html, dom = _dom(rich_result)
    assert not dom.find("link") and not dom.find("script") and not dom.find("iframe")
    assert not any("src" in el["attrs"] for el in dom.elements)
    assert not re.search(r"url\(|@import", html)
    assert all(a["attrs"]["href"].startswith("#") for a in dom.find("a"))


def test_write_report_writes_both_files(tmp_path: Path, demo_result: dict[str, Any]) -> None:
    out = tmp_path / "deep" / "dir"
    paths = write_report(demo_result, out)
    assert paths == {"html": out / "report.html", "markdown": out / "report.md"}
    assert paths["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "Scenario report" in paths["markdown"].read_text(encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.md"]  # no temp files left
    assert paths["html"].stat().st_mode & 0o044 == 0o044


def test_input_is_not_mutated(demo_result: dict[str, Any], tmp_path: Path) -> None:
    import copy

    before = copy.deepcopy(demo_result)
    write_report(demo_result, tmp_path)
    assert demo_result == before


def test_stack_notes_lint_and_consumer_blame_are_shown() -> None:
    """Which Node/Python version ran each function, skipped resources and local installs, lint
    warnings with what the run saw, and a verdict the consumer (not AWS fidelity) is blamed for."""
    from harness.report.html import render_html
    from harness.report.model import validate

    result = validate({"run": {"backend": "embedded"}, "scenarios": [{
        "name": "s", "verdict": "fail", "blame": "consumer", "checks": [],
        "runtimes": {"orders-consumer": {"runtime": "nodejs24.x", "version": "v24.11.0"}},
        "notes": ["Dashboard: skipped: AWS::CloudWatch::Dashboard is not deployed locally"],
        "lint": [{"rule": "partial-batch-without-bisect", "spec_section": "§2.2", "observed": 3,
                  "message": "m", "consequence": "good records re-delivered"}]}]})
    html = render_html(result)
    assert "nodejs24.x</code>" not in html and "nodejs24.x ran on v24.11.0" in html
    assert "skipped: AWS::CloudWatch::Dashboard" in html and "seen 3 time(s)" in html
    assert "did not behave as this scenario declares" in html
