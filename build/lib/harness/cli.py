"""The `shardproof` command (`harness`, its former name, still works): thin argument handling over the
library; every error is one clear line."""

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

console = Console(stderr=True)


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def _parse_context(pairs: Sequence[str]) -> dict[str, object]:
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


def cmd_demo(args: argparse.Namespace) -> int:
    from harness.demo import run_demo

    out = Console()
    if not out.is_terminal:  # CI logs: wide enough that the verdict table stays readable
        out = Console(width=160)
    from harness.deploy.sources import SourceError
    from harness.deploy.sources.options import resolve_source_args
    from harness.project import ProjectError

    try:
        _, source, scenarios_dir = resolve_source_args(args)
    except (SourceError, ProjectError) as exc:
        raise CliError(str(exc)) from None
    status, _ = run_demo(names=args.names, report_dir=Path(args.report_dir) if args.report_dir else None,
                         source=source, scenarios_dir=scenarios_dir, console=out)
    return status


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


def _flag_source(args: argparse.Namespace) -> Any:
    """The stack source the --app/--assembly/--template/--stack flags name, None when none is given."""
    from harness.deploy.sources import SourceError
    from harness.deploy.sources.options import resolve_source_args
    from harness.project import ProjectError

    if not any(getattr(args, k, None) for k in ("app", "assembly", "template", "stack")):
        return None
    try:
        return resolve_source_args(args)[1]
    except (SourceError, ProjectError) as exc:
        raise CliError(str(exc)) from None


def cmd_up(args: argparse.Namespace) -> int:
    from harness.up import serve

    return serve(context=_parse_context(args.context), deploy=args.deploy, port=args.port, console=console,
                 source=_flag_source(args))


def cmd_deploy(args: argparse.Namespace) -> int:
    """Without --backend: ask the running `shardproof up`. With --backend aws: synthesize, show exactly
    what `cdk deploy` will be run with and what the template holds, then run it (unless --dry-run)."""
    context = _parse_context(args.context)
    if args.backend is None:
        if args.dry_run or args.stack_name:
            raise CliError("--dry-run and --stack-name apply to --backend aws only")
        from harness.up import request_deploy

        source = _flag_source(args)
        outputs = request_deploy(context, source=source.spec if source is not None else None)
        print(json.dumps(outputs, indent=2))
        return 0
    if _flag_source(args) is not None:
        # UNFINISHED: `cdk deploy` of infra/ only; another source needs its own deploy command (cdk deploy
        # --app <assembly> for an app or assembly, sam deploy / aws cloudformation deploy for a template).
        raise CliError("deploy --backend aws deploys the sample's infra/ only for now; --app/--assembly/--template "
                       "apply to the running `shardproof up`")
    if args.backend != "aws":
        raise CliError(f"deploy --backend {args.backend}: only 'aws' is deployed by this command; for the "
                       "embedded backend run `shardproof up` then `shardproof deploy`, for LocalStack use "
                       "LocalPipeline('localstack') (see docs/backends.md)")
    return _deploy_to_aws(args.stack_name, context, dry_run=args.dry_run)


def _deploy_to_aws(stack_name: str | None, context: dict[str, object], *, dry_run: bool) -> int:
    import shlex
    import shutil
    import subprocess

    from harness.backends import BackendError
    from harness.backends.aws import CDK_WORKDIR, DEFAULT_STACK, cdk_deploy_command
    from harness.deploy.synth import SynthError, synthesize

    name = stack_name or str(context.get("stackName") or DEFAULT_STACK)
    try:
        command = cdk_deploy_command(name, context)
    except BackendError as exc:
        raise CliError(str(exc)) from None
    console.print(f"synthesizing infra/ for stack {name} (cached by content hash)")
    try:
        synth = synthesize({**context, "stackName": name})
    except SynthError as exc:
        raise CliError(f"synthesis of infra/ failed: {exc}") from None
    resources = synth.template.get("Resources") or {}
    print(f"stack: {synth.stack_name}")
    print(f"resources ({len(resources)}):")
    for lid, resource in resources.items():
        print(f"  {lid}  {resource.get('Type') if isinstance(resource, dict) else '?'}")
    print(f"command (in {CDK_WORKDIR}):")
    print(f"  {shlex.join(command)}")
    if dry_run:
        print("dry run: nothing was deployed")
        return 0
    if shutil.which(command[0]) is None:
        raise CliError(f"{command[0]!r} was not found on PATH: the CDK CLI runs through npx, which comes with "
                       "Node.js 18+; install Node.js, or use --dry-run to only print the command")
    # Inherited stdout/stderr: the CDK CLI's progress streams to the terminal as it happens.
    completed = subprocess.run(command, cwd=CDK_WORKDIR, check=False)
    if completed.returncode != 0:
        raise CliError(f"cdk deploy of {name} exited with status {completed.returncode} (its output is above)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from harness.report.__main__ import main as report_main

    if bool(args.result) == bool(args.from_demo):
        raise CliError("give either a result JSON file or --from-demo DIR (not both, not neither)")
    argv = ["--from-demo", args.from_demo] if args.from_demo else [args.result]
    return report_main([*argv, "--out", args.out])


def build_parser() -> argparse.ArgumentParser:
    from harness.deploy.sources.options import add_source_arguments

    parser = argparse.ArgumentParser(prog="shardproof", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="deploy to the embedded backend, run the canonical scenarios, write the report")
    p.add_argument("names", nargs="*", metavar="SCENARIO", help="scenario names (default: all; see `shardproof scenarios list`)")
    p.add_argument("--report-dir", help="where to write report.html, report.md, result.json, junit.xml (default reports/demo)")
    add_source_arguments(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("simulate", help="run the ESM engine over an in-memory stream; prints JSON")
    p.add_argument("--spec", required=True, help="simulation spec file, or - for stdin")
    p.add_argument("--pretty", action="store_true", help="indent the JSON output")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("up", help="run the embedded backend (and the local runtime + ESM) in the foreground")
    p.add_argument("--port", type=int, default=0, help="moto server port (default: a free one)")
    p.add_argument("--deploy", action="store_true", help="deploy the stack right away")
    p.add_argument("-c", "--context", action="append", default=[], help="CDK context key=value (repeatable)")
    add_source_arguments(p)
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("deploy", help="deploy infra/ to the running `shardproof up`, or with --backend aws to AWS")
    p.add_argument("-c", "--context", action="append", default=[], help="CDK context key=value (repeatable)")
    p.add_argument("--backend", help="aws: synthesize and run `cdk deploy` (default: ask the running `shardproof up`)")
    p.add_argument("--dry-run", action="store_true", help="with --backend aws: print the command and resources only")
    p.add_argument("--stack-name", help="with --backend aws: the CloudFormation stack name (default ResiliencePipeline)")
    add_source_arguments(p)
    p.set_defaults(func=cmd_deploy)

    p = sub.add_parser("report", help="render report.html + report.md from a saved scenarios result or demo dir")
    p.add_argument("result", nargs="?", help="scenarios result JSON (from `shardproof scenarios run --json`)")
    p.add_argument("--from-demo", metavar="DIR", help="a `shardproof demo` report directory instead")
    p.add_argument("--out", required=True, help="directory for report.html and report.md")
    p.set_defaults(func=cmd_report)

    from harness.replay.cli import register as register_replay

    register_replay(sub)

    from harness.scenarios.cli import register as register_scenarios

    register_scenarios(sub)

    from harness.deploy.cli import register as register_describe

    register_describe(sub)

    from harness.scenarios.init_cli import register as register_init

    register_init(sub)
    return parser


def _show_notes() -> None:
    """A former project-file name is a note for the user, not a Python warning with a source line."""
    from harness.project import LegacyProjectFileWarning

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
