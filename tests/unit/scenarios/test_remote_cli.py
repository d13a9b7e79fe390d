"""`shardproof scenarios run --backend aws`: arguments, the cdk deploy/destroy commands it runs, the
skipped scenarios it names, and --record. cdk is never run: subprocess is replaced by a recorder,
and the "deployed" stack is a LocalPipeline on the embedded backend (the harness engine standing
in for AWS's ESM), whose outputs stand in for CloudFormation's."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
from rich.console import Console

from harness.backends.aws import CDK_WORKDIR, cdk_deploy_command, cdk_destroy_command
from harness.esm import EngineSettings
from harness.failures.checks import check_failure_object
from harness.pipeline import LocalPipeline
from harness.scenarios import aws_suite, load_scenarios
from harness.scenarios.cli import cmd_run_aws, register
from harness.scenarios.record import PLACEHOLDER_ACCOUNT, load_fixture
from harness.scenarios.runner import FAST_BACKOFF

BY_NAME = {s.name: s for s in load_scenarios()}


def parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="harness")
    register(p.add_subparsers(dest="command", required=True))
    return p.parse_args(["scenarios", "run", *argv])


class Cdk:
    """Stands in for subprocess.run: records every argv and cwd, answers with fixed exit codes."""

    def __init__(self, deploy_rc: int = 0, destroy_rc: int = 0) -> None:
        self.calls: list[tuple[list[str], Any]] = []
        self.rc = {"deploy": deploy_rc, "destroy": destroy_rc}

    def __call__(self, argv: list[str], cwd: Any = None, check: bool = False) -> Any:
        assert check is False
        self.calls.append((list(argv), cwd))
        return SimpleNamespace(returncode=self.rc[argv[3]])

    def verbs(self) -> list[tuple[str, str]]:
        return [(argv[3], argv[4]) for argv, _ in self.calls]


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalPipeline]:
    """An embedded pipeline whose outputs CloudFormation 'returns' for any stack name."""
    pipe = LocalPipeline("embedded", esm_settings=EngineSettings(backoff=FAST_BACKOFF))
    pipe.start()
    try:
        pipe.deploy(dict(BY_NAME["one-poison-bisect"].context))
        monkeypatch.setattr(aws_suite, "stack_outputs", lambda backend, name: dict(pipe.stack.outputs))
        yield pipe
    finally:
        pipe.stop()


def consoles() -> tuple[Console, Console]:
    return Console(record=True, width=200), Console(record=True, width=200)


def run(args: argparse.Namespace, **kw: Any) -> tuple[int, str, str]:
    out, err = consoles()
    kw.setdefault("which", lambda name: f"/usr/bin/{name}")
    status = cmd_run_aws(args, console=out, err=err, **kw)
    return status, out.export_text(), err.export_text()


def test_aws_arguments_parse() -> None:
    args = parse("one-poison-bisect", "--backend", "aws", "--stack-name", "Mine", "--keep-stack", "--record", "fx",
                 "--deadline", "120", "--poll", "2", "--region", "eu-west-1")
    assert (args.backend, args.stack_name, args.keep_stack, args.record, args.deadline, args.poll, args.region) == (
        "aws", "Mine", True, "fx", 120.0, 2.0, "eu-west-1")


@pytest.mark.parametrize("argv, message", [
    (["--keep-stack"], "--keep-stack apply to --backend aws only"),
    (["--record", "d", "--deadline", "5"], "--record, --deadline apply to --backend aws only"),
])
def test_aws_only_flags_are_refused_elsewhere(argv: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("one-poison-bisect", *argv)
    assert args.func(args) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--esm", "native"], "--esm applies to localstack only"),
    (["--deadline", "0"], "--deadline must be a positive number of seconds"),
    (["--stack-name", "9bad"], "is not a CloudFormation stack name"),
    (["--stack-name", "x" * 128], "is not a CloudFormation stack name"),
])
def test_bad_aws_arguments_exit_2_before_any_cdk_call(argv: list[str], message: str) -> None:
    cdk = Cdk()
    status, _, err = run(parse("one-poison-bisect", "--backend", "aws", *argv), run_command=cdk,
                         backend=SimpleNamespace(healthy=lambda: True))
    assert (status, cdk.calls) == (2, [])
    assert message in err


def test_only_excluded_scenarios_chosen_exits_2_naming_why() -> None:
    cdk = Cdk()
    status, _, err = run(parse("function-timeout", "record-age-expiry", "--backend", "aws"), run_command=cdk,
                         backend=SimpleNamespace(healthy=lambda: True))
    assert (status, cdk.calls) == (2, [])
    assert "none of the chosen scenarios can run on AWS" in err
    assert "function-timeout: its prepare hook changes the deployed stack or its code" in err and "record-age-expiry: it needs a virtual clock" in err


def test_missing_npx_or_credentials_exits_2_before_deploying() -> None:
    cdk = Cdk()
    status, _, err = run(parse("one-poison-bisect", "--backend", "aws"), run_command=cdk, which=lambda name: None,
                         backend=SimpleNamespace(healthy=lambda: True))
    assert (status, cdk.calls) == (2, []) and "'npx' was not found on PATH" in err
    unhealthy = SimpleNamespace(healthy=lambda: False,
                                describe=lambda: SimpleNamespace(details={"identity_error": "no creds here"}))
    status, _, err = run(parse("one-poison-bisect", "--backend", "aws"), run_command=cdk, backend=unhealthy)
    assert (status, cdk.calls) == (2, []) and "no usable AWS credentials: no creds here" in err


def test_deploy_run_destroy_with_a_per_run_stack_and_skips_named(stand_in: LocalPipeline, tmp_path: Path) -> None:
    cdk = Cdk()
    ctx = dict(BY_NAME["one-poison-bisect"].context)
    args = parse("one-poison-bisect", "several-poison-bisect", "function-crash", "--backend", "aws",
                 "--stack-name", "CiRun", "--deadline", "30", "--poll", "0.1", "--json", str(tmp_path / "r.json"))
    status, out, err = run(args, run_command=cdk, backend=stand_in.backend)
    assert status == 0, out + err
    (deploy, cwd1), (destroy, cwd2) = cdk.calls
    name = deploy[4]
    assert re.fullmatch(r"CiRun-[0-9a-f]{6}", name)
    assert deploy == cdk_deploy_command(name, ctx) and destroy == cdk_destroy_command(name, ctx)
    assert cwd1 == cwd2 == CDK_WORKDIR
    assert "SKIP function-crash (not run on AWS): its prepare hook changes the deployed stack or its code" in err
    assert "retained by RemovalPolicy.RETAIN: bucket" in err
    assert "not run on aws: function-crash: its prepare hook changes the deployed stack or its code" in out  # after the verdict table
    result = json.loads((tmp_path / "r.json").read_text())
    assert [s["name"] for s in result["scenarios"]] == ["one-poison-bisect", "several-poison-bisect"]
    assert [s["verdict"] for s in result["scenarios"]] == ["pass", "pass"]
    assert result["skipped"][0]["name"] == "function-crash"
    assert result["run"]["stacks"][0]["destroyed"] is True
    crash_rule = next(r for r in result["fidelity"] if r["rule"].startswith("a crash is a function error"))
    assert crash_rule["status"] == "not-run" and crash_rule["reason"].startswith("not run on AWS: function-crash")


def test_keep_stack_skips_destroy_and_prints_the_command(stand_in: LocalPipeline) -> None:
    cdk = Cdk()
    args = parse("one-poison-bisect", "--backend", "aws", "--keep-stack", "--deadline", "30", "--poll", "0.1")
    status, out, err = run(args, run_command=cdk, backend=stand_in.backend)
    assert status == 0, out + err
    assert cdk.verbs()[0][0] == "deploy" and len(cdk.calls) == 1
    assert "kept stack" in err and "destroy " + cdk.calls[0][0][4] in err


def test_a_failed_deploy_errors_its_scenarios_and_still_destroys_each_stack() -> None:
    """Two contexts -> two stacks (-1, -2); a failed create can leave a ROLLBACK_COMPLETE stack behind."""
    cdk = Cdk(deploy_rc=1)
    backend = SimpleNamespace(healthy=lambda: True, region="us-east-1", account_id="111122223333",
                              describe=lambda: SimpleNamespace(name="aws", endpoint_url=None, region="us-east-1",
                                                               account_id="111122223333", details={}))
    status, out, err = run(parse("one-poison-bisect", "retry-exhaustion", "--backend", "aws"), run_command=cdk,
                           backend=backend)
    assert status == 1
    verbs = cdk.verbs()
    assert [v for v, _ in verbs] == ["deploy", "destroy", "deploy", "destroy"]
    names = [n for _, n in verbs]
    assert names[0] == names[1] != names[2] == names[3]
    assert names[0].endswith("-1") and names[2].endswith("-2")
    assert "cdk deploy of" in out and "exited with status 1" in out


def test_record_saves_each_failure_object_redacted_and_valid(stand_in: LocalPipeline, tmp_path: Path) -> None:
    cdk = Cdk()
    fixtures = tmp_path / "recorded"
    args = parse("one-poison-bisect", "--backend", "aws", "--record", str(fixtures), "--deadline", "30",
                 "--poll", "0.1")
    status, out, err = run(args, run_command=cdk, backend=stand_in.backend)
    assert status == 0, out + err
    files = sorted(fixtures.glob("*.json"))
    assert len(files) == 1 and files[0].name.startswith("one-poison-bisect--")
    doc = load_fixture(files[0])
    account = stand_in.backend.account_id
    assert account not in doc["body"] and f":{PLACEHOLDER_ACCOUNT}:" in doc["body"]
    verdict = check_failure_object(doc["key"], doc["body"])
    assert verdict.problems == [] and isinstance(json.loads(doc["body"])["payload"], str)
    assert "recorded 1 failure object(s)" in err
