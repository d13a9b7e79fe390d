"""`shardproof demo`: the whole pattern, end to end, on the embedded backend, judged against AWS.

Synthesize and deploy the project's stack (the sample's `infra/` and `lambdas/` unless a project
file or `--app/--assembly/--template` names another), then run its scenarios: each writes items,
some of them poison, lets the ESM engine, the consumer, the failure record and the failure handler
do their work, and judges what happened from the backend and the journal against what AWS does
(spec) and what `shardproof simulate` predicts.
Writes the HTML/Markdown report, the result JSON and JUnit XML, and prints where they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from harness.scenarios import load_scenarios, select
from harness.scenarios.cli import exit_status, render_table, run_with_progress, write_outputs


def run_demo(*, names: list[str] | None = None, report_dir: Path | None = None, source: Any = None,
             scenarios_dir: Path | None = None, console: Console | None = None,
             progress_console: Console | None = None) -> tuple[int, dict[str, Any]]:
    """Run the scenarios (all, or `names`) of the project (or of `source` and `scenarios_dir`),
    write the report (default: reports/demo under the project); return (exit status, result)."""
    from harness.project import load_project
    from harness.scenarios.runner import default_source

    console = console or Console()
    project = load_project()
    report_dir = Path(report_dir or project.root / "reports" / "demo")
    source = source or default_source()
    everything = load_scenarios(scenarios_dir or project.scenarios)
    chosen = select(everything, names or None)
    console.print(f"[bold]shardproof demo[/]: {len(chosen)} scenario(s) of {source.label()} on the embedded backend "
                  "(moto in-process, local Lambda runtime, harness ESM engine)")
    result = run_with_progress(chosen, everything, backend="embedded", source=source,
                               console=progress_console or Console(stderr=True))
    render_table(result, console)
    write_outputs(result, json_path=str(report_dir / "result.json"), junit_path=str(report_dir / "junit.xml"),
                  report_dir=str(report_dir), console=console)
    status = exit_status(result)
    verdict = "[green]all scenarios match AWS[/]" if status == 0 else "[red]some scenarios differ from AWS[/]"
    console.print(f"{verdict}; open {report_dir / 'report.html'}")
    return status, result
