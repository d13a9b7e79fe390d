"""`shardproof report`: render report.html + report.md from a saved scenarios result or a demo folder."""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli_support import CliError


def register(subparsers: Any) -> None:
    """Add `report` to the `harness` command's subparsers."""
    sub = subparsers
    p = sub.add_parser("report", help="render report.html + report.md from a saved scenarios result or demo dir")
    p.add_argument("result", nargs="?", help="scenarios result JSON (from `shardproof scenarios run --json`)")
    p.add_argument("--from-demo", metavar="DIR", help="a `shardproof demo` report directory instead")
    p.add_argument("--out", required=True, help="directory for report.html and report.md")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from harness.report.__main__ import main as report_main

    if bool(args.result) == bool(args.from_demo):
        raise CliError("give either a result JSON file or --from-demo DIR (not both, not neither)")
    argv = ["--from-demo", args.from_demo] if args.from_demo else [args.result]
    return report_main([*argv, "--out", args.out])


