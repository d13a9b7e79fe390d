"""`shardproof lint`: warn about mapping settings that lose, block or re-deliver records, from the template alone."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from harness.cli_support import add_source_arguments
from harness.deploy.cli import load_description
from harness.deploy.describe import stood_in_lines
from harness.lint.stack_rules import lint_synth
from harness.lint.render import lint_text
from harness.project import resolve_source_args

err = Console(stderr=True)


def register(subparsers: Any) -> None:
    """Add `lint` to the `harness` command's subparsers."""
    p = subparsers.add_parser("lint", help="warn about mapping settings that lose, block or re-deliver records")
    add_source_arguments(p)
    p.add_argument("-c", "--context", action="append", default=[], help="CDK context key=value (a CDK app only)")
    p.add_argument("--strict", action="store_true", help="exit 1 when there is any finding (for CI)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(func=cmd_lint)


def cmd_lint(args: argparse.Namespace) -> int:
    synth, desc = load_description(args, resolve_source_args)
    findings = lint_synth(synth, desc)
    if args.json:
        print(json.dumps([dataclasses.asdict(f) for f in findings], indent=2))
    else:
        print(lint_text(findings), end="")
        stood_in = stood_in_lines(desc)
        if stood_in:  # said, not a finding: --strict is about the stream's settings
            print("\n" + "\n".join(stood_in))
    if findings and args.strict:
        err.print(f"[red]lint --strict:[/] {len(findings)} finding(s) in stack {escape(desc.stack_name)}")
        return 1
    return 0
