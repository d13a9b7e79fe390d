"""`shardproof describe`: what a team's stack holds (streams, mappings as deployed, destinations, handlers, alerts).

It takes the same stack source as every command (`--app`, `--assembly`, `--template`, `--stack`, or the
project file), synthesizes it (cached), and reads the template only: nothing is deployed. Turning
the flags into a stack source needs the project file, which sits above this layer, so the command
line that assembles the groups (harness/cli.py) hands the resolver in.
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path
from typing import Any, Callable

from harness.cli_support import CliError, add_source_arguments, parse_context
from harness.deploy.stack_model import StackDescription
from harness.deploy.template_reader import describe_template

# args -> (the project, the StackSource the flags or the project file name, the scenarios folder)
SourceResolver = Callable[[argparse.Namespace], tuple[Any, Any, Path]]


def register(subparsers: Any, resolve_source: SourceResolver) -> None:
    """Add `describe` to the `harness` command's subparsers."""
    p = subparsers.add_parser("describe", help="the stream pipelines of a stack: streams, mappings as deployed, "
                                               "destinations, failure handlers, alerts")
    add_source_arguments(p)
    p.add_argument("-c", "--context", action="append", default=[], help="CDK context key=value (a CDK app only)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=partial(cmd_describe, resolve_source=resolve_source))


def load_description(args: argparse.Namespace, resolve_source: SourceResolver) -> tuple[Any, StackDescription]:
    """(the synthesized stack, its description) for the command's stack source; errors are one line."""
    try:
        _, source, _ = resolve_source(args)
        context = parse_context(args.context)
        synth = source.synthesize(context or None)
        return synth, describe_template(synth.template, stack_name=synth.stack_name)
    except ValueError as exc:  # SourceError, ProjectError, a template the reader refuses: each names the culprit
        raise CliError(str(exc)) from None


def cmd_describe(args: argparse.Namespace, *, resolve_source: SourceResolver) -> int:
    from harness.deploy.describe import describe_json, describe_text

    _, desc = load_description(args, resolve_source)
    if args.json:
        print(json.dumps(describe_json(desc), indent=2, default=str))
    else:
        print(describe_text(desc), end="")
    return 0
