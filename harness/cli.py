"""The `shardproof` command (`harness`, its former name, still works): assembles the command groups;
every error is one clear line.

Each group registers itself from beside its package (demo.py, up_cli.py, report/cli.py,
replay/cli.py, scenarios/cli.py, explore/cli.py, scenarios/init_cli.py, deploy/cli.py, lint/cli.py); what they share (CliError,
`-c key=value`, the stack source flags) is in harness/cli_support.py. Turning the flags into a stack
source needs the project file, so the groups get that resolver from here. `simulate` is one call
into the ESM engine and stays here, keeping the engine free of command-line code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.markup import escape

from harness.cli_support import CliError
from harness.demo import register as register_demo
from harness.deploy.cli import register as register_describe
from harness.deploy.sources import SourceError
from harness.explore.cli import register as register_explore
from harness.lint.cli import register as register_lint
from harness.project import LegacyProjectFileWarning, ProjectError, resolve_source_args
from harness.replay.cli import register as register_replay
from harness.report.cli import register as register_report
from harness.scenarios.cli import register as register_scenarios
from harness.scenarios.init_cli import register as register_init
from harness.up_cli import register as register_up

console = Console(stderr=True)
DESCRIPTION = "shardproof: test the failure handling of stream -> Lambda pipelines locally, judged against AWS."


def _resolve_source(args: argparse.Namespace) -> tuple[Any, Any, Path]:
    """resolve_source_args with its errors (each names the flag, file or key at fault) as CliError."""
    try:
        return resolve_source_args(args)
    except (SourceError, ProjectError) as exc:
        raise CliError(str(exc)) from None


def cmd_simulate(args: argparse.Namespace) -> int:
    source = sys.stdin if args.spec == "-" else None
    try:
        text = source.read() if source else Path(args.spec).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read spec {args.spec!r}: {exc.strerror}") from None
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"spec {args.spec!r} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    from harness.esm import SimulationSpecError, run_simulation

    try:
        result = run_simulation(spec)
    except (SimulationSpecError, ValueError) as exc:
        raise CliError(f"spec {args.spec!r}: {exc}") from None
    print(json.dumps(result, indent=2 if args.pretty else None, default=str))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shardproof", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    register_demo(sub, _resolve_source)

    p = sub.add_parser("simulate", help="run the ESM engine over an in-memory stream; prints JSON")
    p.add_argument("--spec", required=True, help="simulation spec file, or - for stdin")
    p.add_argument("--pretty", action="store_true", help="indent the JSON output")
    p.set_defaults(func=cmd_simulate)

    register_up(sub, _resolve_source)
    register_report(sub)
    register_replay(sub)
    register_scenarios(sub)
    register_explore(sub, _resolve_source)
    register_describe(sub, _resolve_source)
    register_lint(sub)
    register_init(sub)
    return parser


def _show_notes() -> None:
    """A former project-file name is a note for the user, not a Python warning with a source line."""
    default = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *rest: Any, **kw: Any) -> None:
        if issubclass(category, LegacyProjectFileWarning):
            console.print(f"[yellow]note:[/] {escape(str(message))}", soft_wrap=True)
        else:
            default(message, category, *rest, **kw)

    warnings.showwarning = show


def main(argv: Sequence[str] | None = None) -> int:
    _show_notes()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    except Exception as exc:  # a named error beats a traceback; SHARDPROOF_DEBUG=1 shows the traceback
        if "1" in (os.environ.get("SHARDPROOF_DEBUG"), os.environ.get("HARNESS_DEBUG")):
            raise
        name = type(exc).__name__
        console.print(f"[red]error:[/] {name}: {escape(str(exc))}", soft_wrap=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
