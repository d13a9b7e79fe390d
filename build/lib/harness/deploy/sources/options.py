"""The stack source options every command shares, and how they combine with the project file.

    --app DIR | --assembly DIR | --template FILE   the stack source (one at most)
    --stack NAME                                   which stack, when the source holds several
    --scenarios DIR                                where the scenarios are

A flag overrides the project file (harness/project.py); a relative path in a flag is relative to
the current folder, one in the project file to the file's folder. The synth cache is
`<project root>/.harness/synth`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.deploy.sources import SourceError, SourceSpec, StackSource, open_source
from harness.project import Project, load_project

FLAGS = {"app": "--app", "assembly": "--assembly", "template": "--template"}


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the stack source options to `parser` (a command's own parser)."""
    group = parser.add_argument_group("stack source (default: shardproof.toml or [tool.shardproof] in pyproject.toml)")
    one = group.add_mutually_exclusive_group()
    one.add_argument("--app", metavar="DIR", help="a CDK app in any language: the folder holding its cdk.json")
    one.add_argument("--assembly", metavar="DIR", help="a synthesized cloud assembly (cdk.out)")
    one.add_argument("--template", metavar="FILE", help="a CloudFormation or SAM template (JSON or YAML)")
    group.add_argument("--stack", metavar="NAME",
                       help="the stack to use when the source holds several (stack name or artifact id)")
    group.add_argument("--scenarios", metavar="DIR", help="the scenarios folder (default: the project's)")


def cache_dir(project: Project) -> Path:
    return project.root / ".harness" / "synth"


def resolve_source_args(args: argparse.Namespace, *, cwd: Path | None = None) -> tuple[Project, StackSource, Path]:
    """(the project, the stack source the flags or the project file name, the scenarios folder).

    SourceError or ProjectError, one line naming the flag, file or key at fault.
    """
    here = Path(cwd) if cwd is not None else Path.cwd()
    project = load_project(here)
    spec = _spec_from_flags(args, here, project) or _with_stack(project.source, getattr(args, "stack", None))
    scenarios = project.scenarios
    if getattr(args, "scenarios", None):
        scenarios = (here / args.scenarios).resolve()
        if not scenarios.exists():
            raise SourceError(f"--scenarios {args.scenarios}: {scenarios} does not exist")
    return project, open_source(spec, cache_dir=cache_dir(project)), scenarios


def _spec_from_flags(args: argparse.Namespace, here: Path, project: Project) -> SourceSpec | None:
    given = [(kind, getattr(args, kind, None)) for kind in FLAGS if getattr(args, kind, None)]
    if not given:
        return None
    if len(given) > 1:  # argparse prevents it; a hand-built Namespace may not
        raise SourceError(f"{' and '.join(FLAGS[k] for k, _ in given)}: give one stack source, not several")
    kind, value = given[0]
    path = (here / value).resolve()
    if not path.exists():
        raise SourceError(f"{FLAGS[kind]} {value}: {path} does not exist")
    # The project's watch list still applies when the flag names the project's own app.
    same = project.source.kind == kind and project.source.path == path
    return SourceSpec(kind, path, stack=getattr(args, "stack", None) or (project.source.stack if same else None),
                      watch=project.source.watch if same else ())


def _with_stack(spec: SourceSpec, stack: str | None) -> SourceSpec:
    return SourceSpec(spec.kind, spec.path, stack or spec.stack, spec.watch)


__all__ = ["add_source_arguments", "cache_dir", "resolve_source_args"]
