"""`shardproof demo`: the whole pattern, end to end, on the embedded backend, judged against AWS.

Synthesize and deploy the project's stack (the sample's `infra/` and `lambdas/` unless a project
file or `--app/--assembly/--template` names another), then run its scenarios: each writes items,
some of them poison, lets the ESM engine, the consumer, the failure record and the failure handler
do their work, and judges what happened from the backend and the journal against what AWS does
(spec) and what `shardproof simulate` predicts.
Writes the HTML/Markdown report, the result JSON and JUnit XML, and prints where they are.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from harness.cli_support import add_source_arguments

from harness.project import load_project
from harness.scenarios import load_scenarios, select
from harness.scenarios.output import exit_status, render_table, run_with_progress, write_outputs


def run_demo(*, names: list[str] | None = None, report_dir: Path | None = None, source: Any = None,
             scenarios_dir: Path | None = None, console: Console | None = None,
             progress_console: Console | None = None) -> tuple[int, dict[str, Any]]:
    """Run the scenarios (all, or `names`) of the project (or of `source` and `scenarios_dir`),
    write the report (default: reports/demo under the project); return (exit status, result)."""
    console = console or Console()
    project = load_project()
    report_dir = Path(report_dir or project.root / "reports" / "demo")
    source = source or project.open_source()
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


# args -> (the project, the StackSource the flags or the project file name, the scenarios folder)
SourceResolver = Callable[[argparse.Namespace], tuple[Any, Any, Path]]


def register(subparsers: Any, resolve_source: SourceResolver) -> None:
    """Add `demo` to the `harness` command's subparsers."""
    p = subparsers.add_parser("demo", help="deploy to the embedded backend, run the canonical scenarios, "
                                           "write the report")
    p.add_argument("names", nargs="*", metavar="SCENARIO",
                   help="scenario names (default: all; see `shardproof scenarios list`)")
    p.add_argument("--report-dir",
                   help="where to write report.html, report.md, result.json, junit.xml (default reports/demo)")
    add_source_arguments(p)
    p.set_defaults(func=partial(cmd_demo, resolve_source=resolve_source))


def cmd_demo(args: argparse.Namespace, *, resolve_source: SourceResolver) -> int:
    out = Console()
    if not out.is_terminal:  # CI logs: wide enough that the verdict table stays readable
        out = Console(width=160)
    _, source, scenarios_dir = resolve_source(args)
    status, _ = run_demo(names=args.names, report_dir=Path(args.report_dir) if args.report_dir else None,
                         source=source, scenarios_dir=scenarios_dir, console=out)
    return status
