"""`shardproof init`: make a team's repository ready in one command, without touching what is there.

It finds the stack (harness/deploy/sources/detect.py), writes `shardproof.toml` naming it, writes
two starter scenarios generated from the stack's pipelines (harness/scenarios/starter.py), and
prints what to run next. A file that exists is never overwritten: it is kept and named in the output,
so running init twice, or in a repository that already has scenarios, is safe.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from harness.cli_support import add_source_arguments

PROJECT_TEXT = """# shardproof reads this stack from here: `shardproof scenarios run` or `pytest {scenarios}/` in this folder.
{kind} = "{path}"
{stack}scenarios = "{scenarios}"
"""


def register(subparsers: Any) -> None:
    """Add `init` to the `shardproof` command's subparsers."""
    p = subparsers.add_parser("init", help="find the stack here, write shardproof.toml and two starter scenarios")
    p.add_argument("folder", nargs="?", default=".", help="the repository folder (default: the current one)")
    add_source_arguments(p)
    p.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    out = Console()
    err = Console(stderr=True)
    try:
        return _init(args, out)
    except _errors() as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2


def _errors() -> tuple[type[Exception], ...]:
    from harness.deploy.stack_model import PipelineLookupError
    from harness.deploy.sources import SourceError
    from harness.project import ProjectError

    return SourceError, ProjectError, PipelineLookupError, OSError


def _init(args: argparse.Namespace, out: Console) -> int:
    from harness.deploy.sources import SourceError, SourceSpec, open_source
    from harness.deploy.sources.detect import detect_sources
    from harness.project import PROJECT_FILE, find_project_file, load_project
    from harness.state_folders import synth_cache_dir

    folder = Path(args.folder).resolve()
    if not folder.is_dir():
        raise SourceError(f"{args.folder}: not a folder")
    flags = [(k, getattr(args, k)) for k in ("app", "assembly", "template") if getattr(args, k, None)]
    existing = find_project_file(folder)
    if existing is not None and existing[0].parent == folder and not flags:
        project = load_project(folder)
        say(out, f"kept {existing[0].name}: its stack is {project.source.kind} {_rel(project.source.path, folder)}")
        spec, scenarios = project.source, (folder / args.scenarios if args.scenarios else project.scenarios)
    else:
        if flags:
            kind, value = flags[0]
            path = (Path.cwd() / value).resolve()
            if not path.exists():
                raise SourceError(f"--{kind} {value}: {path} does not exist")
            rel, why = Path(_rel(path, folder)), f"--{kind} {value}"
        else:
            found = detect_sources(folder)
            if not found:
                raise SourceError(
                    f"{folder}: no stack found (looked for cdk.json, cdk.out/manifest.json, a SAM or CloudFormation "
                    "template such as template.yaml, serverless.yml); run `shardproof init` in the repository "
                    "that holds the stack, or name it: --app DIR, --assembly DIR or --template FILE")
            kind, rel, why = found[0].kind, found[0].path, found[0].why
            for other in found[1:]:
                say(out, f"also found {other.why}; using {found[0].why} (choose with --{other.kind} {other.path})")
        scenarios_rel = args.scenarios or "scenarios"
        scenarios = folder / scenarios_rel
        spec = SourceSpec(kind, (folder / rel).resolve(), stack=args.stack)
        say(out, f"stack: {why}")
        project_file = folder / PROJECT_FILE
        text = PROJECT_TEXT.format(kind=kind, path=rel.as_posix(), scenarios=Path(scenarios_rel).as_posix(),
                                   stack=f'stack = "{args.stack}"\n' if args.stack else "")
        _write_new(project_file, text, out, folder)
    synth = open_source(spec, cache_dir=synth_cache_dir(folder)).synthesize()
    return _write_scenarios(synth, scenarios, folder, out, label=f"{spec.kind} {_rel(spec.path, folder)}")


def _write_scenarios(synth: Any, scenarios: Path, folder: Path, out: Console, *, label: str) -> int:
    from harness.deploy.template_reader import describe_template
    from harness.scenarios.starter import data_loss, starter_files

    description = describe_template(synth.template, stack_name=synth.stack_name)
    code_dirs = description.function_code_dirs(synth.assembly_dir)
    files = starter_files(description, synth.template, code_dirs, label)
    scenarios.mkdir(parents=True, exist_ok=True)
    for f in files:
        _write_new(scenarios / f.name, f.text, out, folder)
    for p in description.pipelines:
        if p.stream is None:
            continue
        say(out, f"pipeline: {p.label}")
        for loss in data_loss(p):
            say(out, f"  [yellow]data loss[/]: {escape(loss)}", markup=True)
    rel = _rel(scenarios, folder)
    say(out, "\nnext:")
    for command, what in (("shardproof describe", "what shardproof read from the stack"),
                          ("shardproof lint", "settings that lose or hold back data"),
                          ("shardproof scenarios run --report-dir reports", "run the scenarios; the verdict table and report"),
                          (f"pytest {rel}", "the same scenarios as pytest items (JUnit with --junitxml)")):
        say(out, f"  {command:<48} # {what}")
    say(out, "  add .harness/ (shardproof's local state) to your .gitignore")
    return 0


def _write_new(path: Path, text: str, out: Console, folder: Path) -> None:
    """Write `path` unless it exists; init never overwrites a file."""
    try:
        with path.open("x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        say(out, f"kept {_rel(path, folder)} (exists; not overwritten)")
        return
    say(out, f"wrote {_rel(path, folder)}")


def _rel(path: Path, folder: Path) -> str:
    try:
        return Path(path).resolve().relative_to(folder).as_posix() or "."
    except ValueError:
        return str(path)


def say(out: Console, line: str, *, markup: bool = False) -> None:
    out.print(line, markup=markup, highlight=False, soft_wrap=True)
