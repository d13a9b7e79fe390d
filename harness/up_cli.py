"""`shardproof up` and `shardproof deploy`: serve a stack by hand on the embedded backend, deploy into it, or to AWS;
`shardproof faults add|list|clear`: inject faults into the stack a running `up` serves (docs/faults.md).

The stack source flags become a source through the resolver harness/cli.py hands in (the project
file decides the default); errors are one line (CliError).
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from harness.cli_support import CliError, add_source_arguments, parse_context, source_flag_given

console = Console(stderr=True)

# args -> (the project, the StackSource the flags or the project file name, the scenarios folder)
SourceResolver = Callable[[argparse.Namespace], tuple[Any, Any, Path]]


def register(subparsers: Any, resolve_source: SourceResolver) -> None:
    """Add `up` and `deploy` to the `harness` command's subparsers."""
    sub = subparsers
    p = sub.add_parser("up", help="run the embedded backend (and the local runtime + ESM) in the foreground")
    p.add_argument("--port", type=int, default=0, help="moto server port (default: a free one)")
    p.add_argument("--deploy", action="store_true", help="deploy the stack right away")
    p.add_argument("-c", "--context", action="append", default=[], help="CDK context key=value (repeatable)")
    add_source_arguments(p)
    p.set_defaults(func=partial(cmd_up, resolve_source=resolve_source))

    p = sub.add_parser("deploy", help="deploy infra/ to the running `shardproof up`, or with --backend aws to AWS")
    p.add_argument("-c", "--context", action="append", default=[], help="CDK context key=value (repeatable)")
    p.add_argument("--backend", help="aws: synthesize and run `cdk deploy` (default: ask the running `shardproof up`)")
    p.add_argument("--dry-run", action="store_true", help="with --backend aws: print the command and resources only")
    p.add_argument("--stack-name",
                   help="with --backend aws: the CloudFormation stack name (default ResiliencePipeline)")
    add_source_arguments(p)
    p.set_defaults(func=partial(cmd_deploy, resolve_source=resolve_source))
    register_faults(sub)


def _flag_source(args: argparse.Namespace, resolve_source: SourceResolver) -> Any:
    """The stack source the --app/--assembly/--template/--stack flags name, None when none is given."""
    if not source_flag_given(args):
        return None
    return resolve_source(args)[1]


def cmd_up(args: argparse.Namespace, *, resolve_source: SourceResolver) -> int:
    from harness.up import serve

    return serve(context=parse_context(args.context), deploy=args.deploy, port=args.port, console=console,
                 source=_flag_source(args, resolve_source))


def cmd_deploy(args: argparse.Namespace, *, resolve_source: SourceResolver) -> int:
    """Without --backend: ask the running `shardproof up`. With --backend aws: synthesize, show exactly
    what `cdk deploy` will be run with and what the template holds, then run it (unless --dry-run)."""
    context = parse_context(args.context)
    if args.backend is None:
        if args.dry_run or args.stack_name:
            raise CliError("--dry-run and --stack-name apply to --backend aws only")
        from harness.up import request_deploy

        source = _flag_source(args, resolve_source)
        outputs = request_deploy(context, source=source.spec if source is not None else None)
        print(json.dumps(outputs, indent=2))
        return 0
    if _flag_source(args, resolve_source) is not None:
        # UNFINISHED: `cdk deploy` of infra/ only; another source needs its own deploy command (cdk deploy
        # --app <assembly> for an app or assembly, sam deploy / aws cloudformation deploy for a template).
        raise CliError("deploy --backend aws deploys the sample's infra/ only (a CDK app of your own: run its "
                       "`cdk deploy`); --app/--assembly/--template apply to the running `shardproof up`")
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


# ---- faults against the running `up` ----------------------------------------------------------


def register_faults(subparsers: Any) -> None:
    """Add `faults add|list|clear` (against the running `up`) to the `harness` command's subparsers."""
    p = subparsers.add_parser("faults", help="inject faults into the stack a running `up` serves (add, list, clear)")
    sub = p.add_subparsers(dest="faults_command", required=True)
    a = sub.add_parser("add", help="add a fault (flags) or the faults of a YAML/JSON file (a `faults:` list)")
    a.add_argument("--file", help="YAML or JSON file: a list of fault entries, as a scenario's faults:")
    a.add_argument("--fault", choices=("error", "timeout", "crash", "throttle", "latency", "partial"))
    a.add_argument("--function", help="logical id, CDK construct id or function name (default: the consumer)")
    a.add_argument("--match", help="a Lambda filter pattern (JSON) over each record")
    a.add_argument("--times", type=int, help="only the first N matching invocations")
    a.add_argument("--message", help="error only: the error message")
    a.add_argument("--latency-ms", type=int, help="latency only: milliseconds before the handler")
    a.add_argument("--after-handler", action="store_true", help="run the handler first, then the fault")
    a.add_argument("--destination-unavailable", action="store_true",
                   help="the on-failure destination refuses delivery (with --times or --seconds)")
    a.add_argument("--seconds", type=float, help="with --destination-unavailable: for this long")
    a.set_defaults(func=cmd_add)
    sub.add_parser("list", help="the faults in force and how often each applied").set_defaults(func=cmd_list)
    sub.add_parser("clear", help="remove every fault").set_defaults(func=cmd_clear)


def entries_from_args(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The fault entries `faults add` sends; ValueError naming the flag at fault."""
    if args.file:
        import yaml

        path = Path(args.file)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"--file {path}: cannot be read as YAML/JSON: {exc}") from None
        if isinstance(data, dict) and "faults" in data:
            data = data["faults"]
        if not isinstance(data, list):
            raise ValueError(f"--file {path}: must hold a list of fault entries (or an object with `faults:`)")
        return data
    if args.destination_unavailable:
        entry: dict[str, Any] = {"destination": "unavailable"}
        if args.times is not None:
            entry["times"] = args.times
        if args.seconds is not None:
            entry["seconds"] = args.seconds
        return [entry]
    if not args.fault:
        raise ValueError("give --fault KIND, --destination-unavailable, or --file FILE")
    entry = {"fault": args.fault}
    for flag, key in (("function", "function"), ("times", "times"), ("message", "message"),
                      ("latency_ms", "latency_ms")):
        if getattr(args, flag) is not None:
            entry[key] = getattr(args, flag)
    if args.match:
        try:
            entry["match"] = json.loads(args.match)
        except ValueError as exc:
            raise ValueError(f"--match must be a JSON filter pattern: {exc}") from None
    if args.after_handler:
        entry["after_handler"] = True
    return [entry]


def cmd_add(args: argparse.Namespace) -> int:
    from harness.up import request_faults

    try:
        entries = entries_from_args(args)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    answer = request_faults("POST", entries)
    print(json.dumps(answer.get("added", []), indent=2))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from harness.up import request_faults

    print(json.dumps(request_faults("GET").get("faults", []), indent=2))
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    from harness.up import request_faults

    print(json.dumps({"cleared": request_faults("DELETE").get("cleared", 0)}))
    return 0
