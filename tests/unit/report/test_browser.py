"""Open the report in headless Chromium and check what a browser makes of it: the verdict rows,
the bars of each bisect tree, the fidelity cells, and that hostile journal text stayed text."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from report_testkit import Dom, rich_result

from harness.report import write_report

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path and Path("/usr/bin/chromium").exists():
        path = "/usr/bin/chromium"
    if not path or not Path(path).exists():
        pytest.skip("no Chromium on this machine (apt-get install -y chromium, or set CHROMIUM=/path): "
                    "the browser rendering check did not run")
    return path


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, cwd=tmp)
    if proc.returncode != 0:
        pytest.fail(f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("browser")
    result: dict[str, Any] = rich_result()
    return {**write_report(result, out / "report"), "tmp": out}


def test_dom_after_rendering(report: dict[str, Path]) -> None:
    proc = _run(report["tmp"], "--dump-dom", report["html"].as_uri())
    dom = Dom(proc.stdout)
    rows = dom.find("tr", "verdict-row")
    assert [r["attrs"]["data-scenario"] for r in rows] == ["demo-bisect-poison", "bisect-two-shards", "retention-trim"]
    svgs = dom.find("svg", "timeline")
    assert [s["attrs"]["id"] for s in svgs] == ["timeline-1", "timeline-2"]
    bars = dom.find("rect", "batch")
    assert [b["attrs"]["data-count"] for b in bars[:9]] == ["10", "5", "3", "2", "1", "1", "1", "1", "5"]
    assert len(bars) == 19
    assert len(dom.find("path", "split-edge")) == 6 + 5
    assert len(dom.find("td", "fid-diverges")) == 5 and len(dom.find("td", "fid-matches")) == 5
    assert len(dom.find("td", "lost")) == 2
    # The hostile <img onerror> and <script> in journal text stayed text: nothing ran, nothing was parsed.
    body = dom.find("body")[0]
    assert "data-pwned" not in body["attrs"]
    assert not dom.find("script") and not dom.find("img")
    assert "<script>alert(1)</script>" in rows[1]["text"]


def test_screenshot(report: dict[str, Path]) -> None:
    shot = report["tmp"] / "report.png"
    _run(report["tmp"], "--window-size=1280,2400", "--hide-scrollbars", f"--screenshot={shot}",
         report["html"].as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2400)
    assert len(data) > 50_000, "a near-empty screenshot: the page did not render"
    keep = os.environ.get("REPORT_SCREENSHOT")
    if keep:  # for a person to look at: REPORT_SCREENSHOT=/tmp/report.png pytest ...
        shutil.copy(shot, keep)


def test_without_a_browser_it_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.skip.Exception, match="no Chromium on this machine"):
        _chromium()
