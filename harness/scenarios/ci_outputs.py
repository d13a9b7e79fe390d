"""What a CI job shows of a scenario run besides JUnit: the verdict table as Markdown (GitHub's job
summary) and one annotation per failing check, placed on the scenario's own file and line, so a
reviewer sees the failure where the scenario is written rather than in a log.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable

MAX_CELL = 300


def summary_markdown(result: dict[str, Any]) -> str:
    """The verdict table as GitHub-flavoured Markdown, one row per scenario."""
    from harness.scenarios.junit import failure_message

    scenarios = result.get("scenarios", [])
    run = result.get("run", {})
    passed = sum(1 for s in scenarios if s["verdict"] == "pass")
    lines = [f"### shardproof: {passed}/{len(scenarios)} scenarios passed on {run.get('backend', '?')} "
             f"({run.get('wall_s', 0.0):.1f} s)", "",
             "| scenario | verdict | checks | lost | what differed from AWS |", "|---|---|---|---|---|"]
    for s in scenarios:
        verdict = {"pass": "✅ pass", "fail": "❌ fail"}.get(s["verdict"], "⚠️ error")
        checks = s.get("checks", [])
        cons = s.get("conservation") or {}
        why = (s.get("error") or failure_message(s)).replace("\n", "<br>")
        lines.append(f"| {_cell(s['name'])} | {verdict} | {sum(1 for c in checks if c['passed'])}/{len(checks)} | "
                     f"{cons.get('lost', '-')} | {_cell(why)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    text = text.replace("|", "\\|")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def scenario_locations(scenarios: Iterable[Any]) -> dict[str, tuple[str, int]]:
    """name -> (file, line of its `name:`), paths relative to the CI workspace (GITHUB_WORKSPACE, else here)."""
    base = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd()).resolve()
    found: dict[str, tuple[str, int]] = {}
    texts: dict[str, list[str]] = {}
    for sc in scenarios:
        if not sc.source_file:
            continue
        path = Path(sc.source_file).resolve()
        if str(path) not in texts:
            try:
                texts[str(path)] = path.read_text(encoding="utf-8").splitlines()
            except OSError:
                texts[str(path)] = []
        pattern = re.compile(rf"""(name\s*[:=]\s*)?["']?{re.escape(sc.name)}["']?\s*(,|$)""")
        line = next((i for i, text in enumerate(texts[str(path)], 1)
                     if "name" in text and pattern.search(text)), 1)
        try:
            shown = path.relative_to(base).as_posix()
        except ValueError:
            shown = str(path)
        found[sc.name] = (shown, line)
    return found


def github_annotations(result: dict[str, Any], locations: dict[str, tuple[str, int]]) -> list[str]:
    """`::error file=...,line=...,title=...::message` for each failing check (or a scenario's error)."""
    out = []
    for s in result.get("scenarios", []):
        if s["verdict"] == "pass":
            continue
        file, line = locations.get(s["name"], ("", 0))
        where = f"file={_prop(file)},line={line}," if file else ""
        if s.get("error"):
            out.append(f"::error {where}title={_prop('scenario ' + s['name'] + ': error')}::{_data(str(s['error']))}")
            continue
        for c in s.get("checks", []):
            if c["passed"]:
                continue
            spec = f" [spec {c['spec']}]" if c.get("spec") else ""
            message = f"{c['name']}{spec}: expected {c['expected']!r}, observed {c['observed']!r}"
            out.append(f"::error {where}title={_prop('scenario ' + s['name'])}::{_data(message)}")
    return out


def _data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's runner reads it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


__all__ = ["github_annotations", "scenario_locations", "summary_markdown"]
