"""`shardproof scenarios run --backend aws`: deploy infra/ with `cdk deploy`, run the AWS-capable
scenarios against AWS's own ESM, then `cdk destroy` (unless kept).

Why one stack per distinct CDK context: the mapping's settings (batch size, bisect, partial
responses) are part of the stack, so scenarios that need different settings need different
stacks; scenarios sharing a context share one deploy (a deploy takes minutes). Each stack name
gets a per-run suffix (harness/backends/aws.py per_run_stack_name), so runs never update each
other's stacks. The commands are built by cdk_deploy_command / cdk_destroy_command, never here.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import harness
from harness.backends import Backend
from harness.backends.aws import (
    CDK_WORKDIR,
    DEFAULT_STACK,
    cdk_deploy_command,
    cdk_destroy_command,
    per_run_stack_name,
)
from harness.scenarios.model import Scenario
from harness.scenarios.record import Recorder
from harness.scenarios.remote import Deployed, RemoteRunError, RemoteSettings, run_remote_scenario, stack_outputs
from harness.judging import fidelity

RunCommand = Callable[..., Any]  # subprocess.run's signature: (argv, cwd=..., check=False) -> .returncode
Say = Callable[[str], None]
RETAINED_OUTPUTS = (("SourceTableName", "table"), ("ProjectionTableName", "table"), ("FailureBucketName", "bucket"))


def split_for_aws(scenarios: list[Scenario]) -> tuple[list[Scenario], list[tuple[Scenario, str]]]:
    """(runnable on AWS, [(excluded, why)]) in suite order; every exclusion has a reason."""
    runnable, skipped = [], []
    for sc in scenarios:
        why = sc.aws_exclusion()
        if why:
            skipped.append((sc, why))
        else:
            runnable.append(sc)
    return runnable, skipped


def group_by_context(scenarios: list[Scenario]) -> list[tuple[dict[str, object], list[Scenario]]]:
    """Scenarios grouped by identical CDK context, groups in order of first appearance."""
    groups: list[tuple[dict[str, object], list[Scenario]]] = []
    for sc in scenarios:
        for ctx, members in groups:
            if ctx == dict(sc.context):
                members.append(sc)
                break
        else:
            groups.append((dict(sc.context), [sc]))
    return groups


def stack_names(base: str, groups: int, run_id: str) -> list[str]:
    """One per-run stack name per context group: `<base>-<run id>[-<n>]`."""
    if groups == 1:
        return [per_run_stack_name(base, run_id)]
    return [per_run_stack_name(base, f"{run_id}-{n}") for n in range(1, groups + 1)]


def preflight(backend: Backend, *, which: Callable[[str], str | None] = shutil.which) -> None:
    """Fail before any deploy when the CDK CLI or credentials are missing (RemoteRunError says which)."""
    cli = cdk_deploy_command(DEFAULT_STACK, {})[0]
    if which(cli) is None:
        raise RemoteRunError(f"{cli!r} was not found on PATH: `cdk deploy` runs through npx, which comes with "
                             "Node.js 18+")
    if not backend.healthy():
        details = backend.describe().details
        raise RemoteRunError(f"no usable AWS credentials: {details.get('identity_error', 'STS did not answer')}")


def _error_result(sc: Scenario, message: str) -> dict[str, Any]:
    return {"name": sc.name, "title": sc.title, "description": sc.description,
            "spec_sections": list(sc.spec_sections), "verdict": "error", "wall_s": 0.0, "checks": [],
            "expected": {"context": dict(sc.context)}, "observed": {}, "conservation": {}, "journal": [],
            "error": message}


def retained_resources(outputs: dict[str, str]) -> list[dict[str, str]]:
    """What `cdk destroy` leaves behind (RemovalPolicy.RETAIN in infra/pipeline_stack.py) and how to delete it."""
    out = []
    for key, kind in RETAINED_OUTPUTS:
        name = outputs.get(key)
        if not name:
            continue
        delete = (f"aws dynamodb delete-table --table-name {shlex.quote(name)}" if kind == "table"
                  else f"aws s3 rb s3://{name} --force")
        out.append({"kind": kind, "name": name, "delete": delete})
    return out


def run_aws_suite(chosen: list[Scenario], everything: list[Scenario], *, backend: Backend,
                  base_stack: str = DEFAULT_STACK, keep_stack: bool = False, record_dir: Path | None = None,
                  settings: RemoteSettings | None = None, say: Say = print,
                  run_command: RunCommand = subprocess.run, run_id: str | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Deploy, run, destroy; the result JSON in the same schema as run_suite, plus `skipped` and
    `run.stacks` (name, deployed, destroyed or kept, retained resources)."""
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    began = time.perf_counter()
    runnable, skipped = split_for_aws(chosen)
    for sc, why in skipped:
        say(f"SKIP {sc.name} (not run on AWS): {why}")
    groups = group_by_context(runnable)
    run_id = run_id or secrets.token_hex(3)
    names = stack_names(base_stack, len(groups), run_id) if groups else []
    recorder = Recorder(record_dir, account_id=None, region=backend.region) if record_dir else None
    results: list[dict[str, Any]] = []
    stacks: list[dict[str, Any]] = []
    for (ctx, members), name in zip(groups, names):
        entry: dict[str, Any] = {"name": name, "context": ctx, "scenarios": [s.name for s in members],
                                 "deployed": False, "destroyed": False, "kept": keep_stack, "retained": []}
        stacks.append(entry)
        done: set[str] = set()
        try:
            command = cdk_deploy_command(name, ctx)
            say(f"deploying {name} for {', '.join(s.name for s in members)} (cdk deploy takes minutes):")
            say(f"  (in {CDK_WORKDIR}) {shlex.join(command)}")
            rc = run_command(command, cwd=CDK_WORKDIR, check=False).returncode
            if rc != 0:
                raise RemoteRunError(f"cdk deploy of {name} exited with status {rc} (its output is above)")
            entry["deployed"] = True
            outputs = stack_outputs(backend, name)
            entry["retained"] = retained_resources(outputs)
            deployed = Deployed(backend, outputs, stack_name=name)
            if recorder is not None:
                recorder.account_id = backend.account_id
                recorder.stack = name
            for sc in members:
                say(f"running {sc.name} on {name}")
                r = run_remote_scenario(sc, deployed, settings=settings, progress=say, on_object=recorder,
                                        run_id=run_id, sleep=sleep)
                done.add(sc.name)
                results.append(r)
                say(f"{r['verdict'].upper()} {sc.name} ({r['wall_s']:.1f}s)")
        except Exception as exc:  # noqa: BLE001 - deploy or outputs failed: every scenario left says why
            for sc in members:
                if sc.name not in done:
                    results.append(_error_result(sc, f"{type(exc).__name__}: {exc}"))
        finally:
            _teardown(entry, ctx, keep_stack=keep_stack, say=say, run_command=run_command)
    if recorder is not None:
        say(f"recorded {len(recorder.written)} failure object(s) into {record_dir}")
        for problem in recorder.errors:
            say(f"  not recorded: {problem}")
    label = "aws"
    info = backend.describe()
    rows = fidelity(everything, results, label)
    excluded = {sc.name: why for sc, why in skipped}
    for row in rows:
        if row["status"] == "not-run":
            owners = [s for s in everything if any(rule == row["rule"] for rule, _ in s.rules)]
            whys = [f"{s.name}: {excluded[s.name]}" for s in owners if s.name in excluded]
            if whys:
                row["reason"] = "not run on AWS: " + "; ".join(whys)
    return {
        "run": {"backend": label, "started": started, "wall_s": round(time.perf_counter() - began, 3),
                "harness_version": harness.__version__,
                "backend_info": {"name": info.name, "endpoint_url": info.endpoint_url, "region": info.region,
                                 "account_id": info.account_id, "details": info.details},
                "stacks": stacks, "recorded": [str(p) for p in recorder.written] if recorder else []},
        "scenarios": results,
        "skipped": [{"name": sc.name, "reason": why} for sc, why in skipped],
        "fidelity": rows,
    }


def _teardown(entry: dict[str, Any], ctx: dict[str, object], *, keep_stack: bool, say: Say,
              run_command: RunCommand) -> None:
    name = entry["name"]
    destroy = cdk_destroy_command(name, ctx)
    if keep_stack:
        say(f"kept stack {name} (--keep-stack); it costs money while it exists. Remove it with:")
        say(f"  (in {CDK_WORKDIR}) {shlex.join(destroy)}")
    else:
        say(f"destroying {name}: {shlex.join(destroy)}")
        try:
            rc = run_command(destroy, cwd=CDK_WORKDIR, check=False).returncode
        except Exception as exc:  # noqa: BLE001 - say it; the user must clean up by hand
            rc = f"{type(exc).__name__}: {exc}"
        entry["destroyed"] = rc == 0
        if rc != 0:
            say(f"cdk destroy of {name} failed ({rc}); delete the stack by hand: (in {CDK_WORKDIR}) "
                f"{shlex.join(destroy)}")
    for r in ([] if keep_stack else entry["retained"]):
        say(f"  retained by RemovalPolicy.RETAIN: {r['kind']} {r['name']}; delete with: {r['delete']}")
