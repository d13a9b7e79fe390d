"""`shardproof explore`: wired into harness/cli.py with `register(sub, resolve_source)`; every error
is a CliError naming the flag, file, scenario or setting at fault."""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from harness.cli_support import CliError, add_source_arguments

# args -> (the project, the StackSource the flags or the project file name, the scenarios folder)
SourceResolver = Callable[[argparse.Namespace], tuple[Any, Any, Path]]

HELP_SET = ("a mapping parameter as the Lambda API names it, and its values: BatchSize, BisectBatchOnFunctionError, "
            "MaximumRetryAttempts, MaximumRecordAgeInSeconds, FunctionResponseTypes (none or ReportBatchItemFailures), "
            "MaximumBatchingWindowInSeconds, ParallelizationFactor, TumblingWindowInSeconds, DestinationConfig "
            "(none or deployed); repeatable, the grid is their product")


def register(subparsers: Any, resolve_source: SourceResolver) -> None:
    p = subparsers.add_parser("explore", help="one scenario over a grid of mapping settings through the oracle, "
                                              "side by side, with a recommendation")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO",
                   help="scenario name (may be left out when the scenarios folder has exactly one)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=v1,v2", help=HELP_SET)
    p.add_argument("--json", dest="json_path", metavar="FILE", help="write the result JSON here")
    p.add_argument("--report-dir", metavar="DIR", help="write explore.html (and explore.json) here")
    p.add_argument("--verify", type=int, default=0, metavar="K",
                   help="run the K best combinations for real on the embedded backend and say whether each agreed")
    add_source_arguments(p)
    p.set_defaults(func=partial(cmd_explore, resolve_source=resolve_source))


def _errors() -> tuple[type[Exception], ...]:
    from harness.deploy.sources import SourceError
    from harness.deploy.stack_model import PipelineLookupError
    from harness.explore import BaseError, GridError
    from harness.scenarios import ScenarioError
    from harness.streams import StreamItemError

    return GridError, BaseError, ScenarioError, SourceError, PipelineLookupError, StreamItemError


def _scenario(folder: Path, name: str | None) -> Any:
    from harness.scenarios import ScenarioError, load_scenarios

    everything = load_scenarios(folder)
    if name is None:
        if len(everything) != 1:
            raise ScenarioError(f"name a scenario: {folder} has {len(everything)} ("
                                + ", ".join(s.name for s in everything) + ")")
        return everything[0]
    for s in everything:
        if s.name == name:
            return s
    raise ScenarioError(f"unknown scenario {name!r} in {folder}; known: {', '.join(s.name for s in everything)}")


def cmd_explore(args: argparse.Namespace, *, resolve_source: SourceResolver) -> int:
    from harness.explore import explore, load_base, parse_sets
    from harness.explore.render import render_table

    out = Console()
    if not out.is_terminal:  # logs and docs: wide enough that every column keeps its name
        out = Console(width=180)
    err = Console(stderr=True)
    if args.verify < 0:
        raise CliError(f"--verify {args.verify}: K must be 0 or more")
    try:
        sets = parse_sets(args.sets)
        _, source, folder = resolve_source(args)
        scenario = _scenario(folder, args.scenario)
        base = load_base(scenario, source)
        result = explore(base, sets)
    except _errors() as exc:
        raise CliError(str(exc)) from None
    if args.verify:
        from harness.explore.verify import verify

        verify(result, base, source, args.verify, progress=lambda msg: err.print(msg))
    render_table(result, out)
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        out.print(f"wrote {args.json_path}")
    if args.report_dir:
        from harness.explore.page import write_page

        path = write_page(result, Path(args.report_dir))
        out.print(f"wrote {path}")
    return 0
