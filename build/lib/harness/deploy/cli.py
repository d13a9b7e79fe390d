"""`shardproof describe` and `shardproof lint`: what a team's stack holds, and what it will do with a poison record.

Both take the same stack source as every command (`--app`, `--assembly`, `--template`, `--stack`,
or the project file), synthesize it (cached), and read the template only: nothing is deployed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from harness.deploy.pipelines import StackDescription, describe_template
from harness.deploy.sources.options import add_source_arguments, resolve_source_args

err = Console(stderr=True)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("describe", help="the stream pipelines of a stack: streams, mappings as deployed, "
                                               "destinations, failure handlers, alerts")
    add_source_arguments(p)
    p.add_argument("-c", "--context", action="append", default=[], help="CDK context key=value (a CDK app only)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_describe)
    p = subparsers.add_parser("lint", help="warn about mapping settings that lose, block or re-deliver records")
    add_source_arguments(p)
    p.add_argument("-c", "--context", action="append", default=[], help="CDK context key=value (a CDK app only)")
    p.add_argument("--strict", action="store_true", help="exit 1 when there is any finding (for CI)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(func=cmd_lint)


def function_code_dirs(desc: StackDescription, assembly_dir: Path) -> dict[str, Path]:
    """Each function's code folder (logical id -> folder), where the template says where it is."""
    return {f.logical_id: (Path(assembly_dir) / f.code_path) for f in desc.functions if f.code_path}


def load_description(args: argparse.Namespace) -> tuple[Any, StackDescription]:
    """(the synthesized stack, its description) for the command's stack source; errors are one line."""
    from harness.cli import CliError, _parse_context
    from harness.deploy.sources import SourceError
    from harness.project import ProjectError

    try:
        _, source, _ = resolve_source_args(args)
        context = _parse_context(args.context)
        synth = source.synthesize(context or None)
        return synth, describe_template(synth.template, stack_name=synth.stack_name)
    except (SourceError, ProjectError, ValueError) as exc:
        raise CliError(str(exc)) from None


def cmd_describe(args: argparse.Namespace) -> int:
    from harness.deploy.describe import describe_json, describe_text

    _, desc = load_description(args)
    if args.json:
        print(json.dumps(describe_json(desc), indent=2, default=str))
    else:
        print(describe_text(desc), end="")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    import dataclasses

    from harness.lint import lint_stack, lint_text

    synth, desc = load_description(args)
    findings = lint_stack(desc, synth.template, code_dirs=function_code_dirs(desc, synth.assembly_dir))
    if args.json:
        print(json.dumps([dataclasses.asdict(f) for f in findings], indent=2))
    else:
        print(lint_text(findings), end="")
    if findings and args.strict:
        err.print(f"[red]lint --strict:[/] {len(findings)} finding(s) in stack {escape(desc.stack_name)}")
        return 1
    return 0
