"""`shardproof scenarios list|run`: wired into harness/cli.py with `register(sub)`.

`run` prints a rich progress bar and a verdict table, writes the result JSON (the schema the
report reads), JUnit XML and the HTML/Markdown report when asked (harness/scenarios/output.py, shared
with `shardproof demo`), and exits non-zero when any scenario failed or errored, so CI can gate on it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.backends import BACKENDS
from harness.cli_support import add_source_arguments, source_flag_given
from harness.deploy.sources import SourceError
from harness.project import ProjectError, resolve_source_args
from harness.scenarios.loader import load_scenarios, select
from harness.scenarios.model import ScenarioError
from harness.scenarios.output import exit_status, render_table, run_with_progress, write_outputs

SOURCE_ERRORS = (ScenarioError, SourceError, ProjectError)


def register(subparsers: Any) -> None:
    """Add `scenarios list` and `scenarios run` to the `harness` command's subparsers."""
    p = subparsers.add_parser("scenarios", help="the scenario suite: list, run against a backend, judge")
    sub = p.add_subparsers(dest="scenarios_command", required=True)
    lp = sub.add_parser("list", help="list the scenarios (name, title, spec sections)")
    lp.add_argument("--json", action="store_true",
                    help="print a JSON list (name, title, file, table, mapping, items, poison, spec) for scripts")
    add_source_arguments(lp)
    lp.set_defaults(func=cmd_list)
    rp = sub.add_parser("run", help="run scenarios (default: all) and print the verdict table")
    rp.add_argument("names", nargs="*", metavar="NAME", help="scenario names (default: all)")
    rp.add_argument("--backend", default="embedded", choices=BACKENDS, help="where the stack runs (default embedded)")
    rp.add_argument("--esm", default="harness", choices=("harness", "native"),
                    help="whose ESM reads the stream: the harness engine (default) or the backend's own "
                         "(LocalStack only; measures its fidelity)")
    rp.add_argument("--json", dest="json_path", metavar="FILE", help="write the result JSON here")
    rp.add_argument("--junit", dest="junit_path", metavar="FILE", help="write JUnit XML here")
    rp.add_argument("--report-dir", metavar="DIR", help="write the HTML/Markdown report here")
    rp.add_argument("--summary", metavar="FILE",
                    help="append the verdict table as Markdown to FILE (in GitHub Actions: $GITHUB_STEP_SUMMARY)")
    rp.add_argument("--github-annotations", action="store_true",
                    help="print a GitHub Actions ::error annotation per failing check, on its scenario file and line")
    add_source_arguments(rp)
    aws = rp.add_argument_group("--backend aws (cdk deploy of infra/, AWS's own ESM; see docs/aws.md)")
    aws.add_argument("--stack-name", metavar="NAME",
                     help="base stack name; each run adds its own suffix (default ResiliencePipeline)")
    aws.add_argument("--keep-stack", action="store_true", help="do not `cdk destroy` the stack(s) afterwards")
    aws.add_argument("--record", metavar="DIR",
                     help="save every failure object read from S3 here as a JSON fixture (account id and "
                          "credentials redacted), e.g. tests/fixtures/recorded")
    aws.add_argument("--deadline", type=float, default=None, metavar="SECONDS",
                     help="how long to wait for a scenario's evidence (default 600)")
    aws.add_argument("--poll", type=float, default=None, metavar="SECONDS",
                     help="how often to poll the bucket, table and alert queue (default 5)")
    aws.add_argument("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)")
    rp.set_defaults(func=cmd_run)


def _load(args: argparse.Namespace, names: list[str] | None = None) -> tuple[Any, list[Any], list[Any]]:
    """(the stack source, every scenario of the scenarios folder, the chosen ones)."""
    _, source, folder = resolve_source_args(args)
    everything = load_scenarios(folder)
    return source, everything, select(everything, names)


def cmd_list(args: argparse.Namespace) -> int:
    try:
        _, scenarios, _ = _load(args)
    except SOURCE_ERRORS as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}")
        return 2
    if args.json:
        print(json.dumps([{"name": s.name, "title": s.title, "file": s.source_file, "table": s.table,
                           "mapping": s.mapping, "items": len(s.items), "poison": list(s.poison),
                           "spec": list(s.spec_sections)} for s in scenarios], indent=1))
        return 0
    table = Table(title="scenarios")
    for col in ("name", "title", "spec"):
        table.add_column(col)
    for s in scenarios:
        table.add_row(s.name, s.title, ", ".join(s.spec_sections))
    Console().print(table)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from harness.pipeline import PipelineError, choose_wiring

    console = Console()
    err = Console(stderr=True)
    aws_only = [flag for flag, given in (("--stack-name", args.stack_name), ("--keep-stack", args.keep_stack),
                                         ("--record", args.record), ("--deadline", args.deadline is not None),
                                         ("--poll", args.poll is not None), ("--region", args.region)) if given]
    if args.backend == "aws":
        return cmd_run_aws(args, console=console, err=err)
    if aws_only:
        err.print(f"[red]error:[/] {', '.join(aws_only)} apply to --backend aws only")
        return 2
    try:
        choose_wiring(args.backend, args.esm)  # before any synth: a wiring that cannot run is the user's error
        source, everything, chosen = _load(args, args.names)
    except (*SOURCE_ERRORS, PipelineError) as exc:
        err.print(f"[red]error:[/] {exc}")
        return 2
    result = run_with_progress(chosen, everything, backend=args.backend, esm=args.esm, console=err, source=source)
    render_table(result, console)
    write_outputs(result, json_path=args.json_path, junit_path=args.junit_path, report_dir=args.report_dir,
                  console=console)
    write_ci_outputs(result, chosen, summary=args.summary, annotations=args.github_annotations)
    return exit_status(result)


def write_ci_outputs(result: dict[str, Any], chosen: list[Any], *, summary: str | None, annotations: bool) -> None:
    """The job summary (appended: a job's steps share the file) and the annotations, when asked."""
    from harness.scenarios.ci_outputs import github_annotations, scenario_locations, summary_markdown

    if summary:
        with Path(summary).open("a", encoding="utf-8") as f:
            f.write(summary_markdown(result))
    if annotations:
        for line in github_annotations(result, scenario_locations(chosen)):
            print(line, flush=True)


def aws_settings(args: argparse.Namespace) -> Any:
    """RemoteSettings from --deadline/--poll; ValueError names the bad flag."""
    from harness.scenarios.remote import RemoteSettings

    base = RemoteSettings()
    deadline = base.deadline_s if args.deadline is None else args.deadline
    poll = base.poll_s if args.poll is None else args.poll
    for flag, value in (("--deadline", deadline), ("--poll", poll)):
        if not value > 0:
            raise ValueError(f"{flag} must be a positive number of seconds, got {value}")
    # Quiet period: six polls without change once settled, never more than the default or a quarter of the deadline.
    return RemoteSettings(deadline_s=deadline, poll_s=poll, quiet_s=min(base.quiet_s, deadline / 4, 6 * poll))


def cmd_run_aws(args: argparse.Namespace, *, console: Console, err: Console,
                run_command: Any = None, backend: Any = None, which: Any = None) -> int:
    """`scenarios run --backend aws`: every problem found before deploying exits 2 with one line."""
    import os
    import subprocess

    from harness.backends import BackendError
    from harness.backends.aws import DEFAULT_STACK, AwsBackend, per_run_stack_name
    from harness.scenarios.aws_suite import preflight, run_aws_suite, split_for_aws
    from harness.scenarios.remote import RemoteRunError

    try:
        if args.esm != "harness":
            raise ValueError("--esm applies to localstack only: on AWS the ESM is always AWS's own")
        settings = aws_settings(args)
        base = args.stack_name or DEFAULT_STACK
        per_run_stack_name(base, "0")  # the base must leave room for the suffix: a bad name fails now
        if source_flag_given(args):
            # UNFINISHED: the AWS runner deploys infra/ with `cdk deploy` and judges through the sample's
            # projection table; another stack needs its own evidence of processed records there.
            raise ValueError("--backend aws runs the sample stack (infra/) only: it judges through the sample's "
                             "projection table; --app/--assembly/--template/--stack apply to the local backends")
        _, everything, chosen = _load(args, args.names)
        runnable, skipped = split_for_aws(chosen)
        if not runnable:
            why = "; ".join(f"{sc.name}: {reason}" for sc, reason in skipped)
            raise ValueError(f"none of the chosen scenarios can run on AWS ({why})")
        region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        backend = backend or AwsBackend(region=region)
        preflight(backend, **({"which": which} if which else {}))
    except (*SOURCE_ERRORS, BackendError, RemoteRunError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}")
        return 2
    result = run_aws_suite(chosen, everything, backend=backend, base_stack=base, keep_stack=args.keep_stack,
                           record_dir=Path(args.record) if args.record else None, settings=settings,
                           say=lambda line: err.print(line, markup=False, highlight=False),
                           run_command=run_command or subprocess.run)
    render_table(result, console)
    for skip in result["skipped"]:
        console.print(f"not run on aws: {skip['name']}: {skip['reason']}", markup=False, highlight=False)
    write_outputs(result, json_path=args.json_path, junit_path=args.junit_path, report_dir=args.report_dir,
                  console=console)
    write_ci_outputs(result, chosen, summary=args.summary, annotations=args.github_annotations)
    return exit_status(result)
