"""What every command group shares: the one-line user error, `-c key=value` context, the stack source flags.

Why a low module of its own: each command group lives beside its package (`deploy/cli.py`,
`lint/cli.py`, `replay/cli.py`, `scenarios/cli.py`), and they all need these without importing the
top-level `harness/cli.py` that assembles them. Resolving the flags into a stack source needs the
project file and the deploy layer, so it lives in `harness/project.py`; this module only declares
the flags.
"""

from __future__ import annotations

import argparse
import json
from typing import Sequence

SOURCE_FLAGS = {"app": "--app", "assembly": "--assembly", "template": "--template", "serverless": "--serverless"}


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def parse_context(pairs: Sequence[str]) -> dict[str, object]:
    """`-c key=value` pairs; values are JSON when they parse as JSON (numbers, true/false), else strings."""
    context: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"context {pair!r} must look like key=value")
        try:
            context[key] = json.loads(value)
        except json.JSONDecodeError:
            context[key] = value
    return context


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the stack source options to `parser` (a command's own parser).

        --app DIR | --assembly DIR | --template FILE | --serverless DIR   the stack source (one at most)
        --stack NAME                                   which stack, when the source holds several
        --scenarios DIR                                where the scenarios are
    """
    group = parser.add_argument_group("stack source (default: shardproof.toml or [tool.shardproof] in pyproject.toml)")
    one = group.add_mutually_exclusive_group()
    one.add_argument("--app", metavar="DIR", help="a CDK app in any language: the folder holding its cdk.json")
    one.add_argument("--assembly", metavar="DIR", help="a synthesized cloud assembly (cdk.out)")
    one.add_argument("--template", metavar="FILE", help="a CloudFormation or SAM template (JSON or YAML)")
    one.add_argument("--serverless", metavar="DIR", help="a Serverless Framework service: the folder holding its "
                     "serverless.yml (packaged offline with serverless@3's `package`)")
    group.add_argument("--stack", metavar="NAME",
                       help="the stack to use when the source holds several (stack name or artifact id)")
    group.add_argument("--scenarios", metavar="DIR", help="the scenarios folder (default: the project's)")


def source_flag_given(args: argparse.Namespace) -> bool:
    """Whether the command line names a stack source (--app/--assembly/--template/--serverless/--stack)."""
    return any(getattr(args, k, None) for k in (*SOURCE_FLAGS, "stack"))


__all__ = ["SOURCE_FLAGS", "CliError", "add_source_arguments", "parse_context", "source_flag_given"]
