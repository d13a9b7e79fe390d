"""What `shardproof scenarios run` and `shardproof demo` both show and write: progress, the verdict table, the files.

Why apart from the command: the demo is the same run with fixed choices, and must print and write
exactly what `scenarios run` does, without borrowing from another command's module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.report.plain import plain_verdicts
from harness.scenarios.junit import failure_message, write_junit
from harness.scenarios.runner import run_suite


def exit_status(result: dict[str, Any]) -> int:
    bad = [s for s in result["scenarios"] if s["verdict"] != "pass"]
    return 1 if bad or not result["scenarios"] else 0


def run_with_progress(chosen: list[Any], everything: list[Any], *, backend: str, esm: str = "harness",
                      console: Console, source: Any = None) -> dict[str, Any]:
    """run_suite with a progress bar and one verdict line per scenario as it finishes."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task("scenarios", total=len(chosen))

        def progress(sc: Any, result: dict[str, Any] | None) -> None:
            if result is None:
                bar.update(task, description=f"running {sc.name}")
            else:
                bar.advance(task)
                colour = "green" if result["verdict"] == "pass" else "red"
                bar.console.log(f"[{colour}]{result['verdict'].upper()}[/] {sc.name} ({result['wall_s']:.1f}s)")

        return run_suite(chosen, backend=backend, progress=progress, all_scenarios=everything, esm=esm, source=source)


def render_table(result: dict[str, Any], console: Console) -> None:
    """The verdict table on a terminal; plain lines (none wrapped or cut) anywhere else."""
    if not console.is_terminal:
        console.print(plain_verdicts(result), markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title=f"scenario verdicts on {result['run']['backend']} ({result['run']['wall_s']:.1f}s)")
    for col in ("scenario", "spec", "verdict", "checks", "conservation", "what differed from AWS"):
        table.add_column(col, overflow="fold")
    for s in result["scenarios"]:
        verdict = {"pass": "[green]PASS[/]", "fail": "[red]FAIL[/]"}.get(s["verdict"], "[yellow]ERROR[/]")
        c = s.get("conservation") or {}
        cons = (f"{c.get('injected', '?')} = {c.get('processed', '?')}+{c.get('filtered', '?')}"
                f"+{c.get('in_failure_records', '?')}+{c.get('dropped', '?')}, lost {c.get('lost', '?')}") if c else "-"
        passed = sum(1 for x in s["checks"] if x["passed"])
        why = s["error"] or failure_message(s)
        table.add_row(s["name"], ", ".join(s["spec_sections"]), verdict, f"{passed}/{len(s['checks'])}", cons,
                      (why[:400] + "…") if len(why) > 400 else why)
    console.print(table)


def write_outputs(result: dict[str, Any], *, json_path: str | None, junit_path: str | None,
                  report_dir: str | None, console: Console) -> None:
    if json_path:
        path = Path(json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
        console.print(f"result JSON: {path}")
    if junit_path:
        console.print(f"JUnit XML: {write_junit(result, Path(junit_path))}")
    if report_dir:
        try:
            from harness.report import write_report
        except ImportError as exc:
            console.print(f"note: no HTML/Markdown report written (harness.report not importable: {exc})")
            return
        paths = write_report(result, Path(report_dir))
        for kind, p in paths.items():
            console.print(f"report ({kind}): {p}")
