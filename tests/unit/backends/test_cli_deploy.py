"""`shardproof deploy --backend aws`: what it prints, what it runs, and that --dry-run runs nothing.

Synthesis is faked (a real one takes ~10 s cold and is covered by the infra tests); every way of
starting a process is booby-trapped so a dry run that ran anything fails loudly.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from harness.backends.aws import CDK_WORKDIR, cdk_deploy_command
from harness.deploy import synth as synth_module
from harness.deploy.synth import SynthError, SynthResult

TEMPLATE = {"Resources": {
    "SourceTable1": {"Type": "AWS::DynamoDB::Table"},
    "ConsumerFunction2": {"Type": "AWS::Lambda::Function"},
    "Mapping3": {"Type": "AWS::Lambda::EventSourceMapping"},
}}


@pytest.fixture
def synth_calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def fake(context: dict[str, Any] | None = None, **kw: Any) -> SynthResult:
        calls.append(dict(context or {}))
        return SynthResult(TEMPLATE, tmp_path, str((context or {}).get("stackName")), True)

    monkeypatch.setattr(synth_module, "synthesize", fake)
    return calls


@pytest.fixture
def no_processes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    started: list[Any] = []

    def trap(*args: Any, **kwargs: Any) -> Any:
        started.append(args)
        raise AssertionError(f"a process was started: {args!r}")

    for name in ("run", "Popen", "call", "check_call", "check_output"):
        monkeypatch.setattr(subprocess, name, trap)
    monkeypatch.setattr(os, "system", trap)
    return started


def test_dry_run_prints_resources_and_the_exact_command_and_runs_nothing(
        synth_calls: list[dict[str, Any]], no_processes: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["deploy", "--backend", "aws", "--dry-run", "--stack-name", "Demo-1", "-c", "batchSize=5",
                     "-c", "bisect=true"])
    out = capsys.readouterr().out
    assert code == 0
    assert no_processes == []
    assert synth_calls == [{"batchSize": 5, "bisect": True, "stackName": "Demo-1"}]
    expected = shlex.join(cdk_deploy_command("Demo-1", {"batchSize": 5, "bisect": True}))
    assert f"  {expected}\n" in out
    assert f"command (in {CDK_WORKDIR}):" in out
    assert "resources (3):" in out
    for lid, res in TEMPLATE["Resources"].items():
        assert f"  {lid}  {res['Type']}\n" in out
    assert "dry run: nothing was deployed" in out


def test_default_stack_name(synth_calls: list[dict[str, Any]], no_processes: list[Any],
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["deploy", "--backend", "aws", "--dry-run"]) == 0
    assert synth_calls == [{"stackName": "ResiliencePipeline"}]
    assert " deploy ResiliencePipeline " in capsys.readouterr().out


def test_real_run_streams_through_inherited_stdio_in_infra(synth_calls: list[dict[str, Any]],
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    runs: list[tuple[list[str], Any, dict[str, Any]]] = []

    def fake_run(cmd: list[str], cwd: Any = None, **kw: Any) -> subprocess.CompletedProcess:
        runs.append((cmd, cwd, kw))
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    assert cli.main(["deploy", "--backend", "aws", "--stack-name", "S1"]) == 0
    [(cmd, cwd, kw)] = runs
    assert cmd == cdk_deploy_command("S1", {})
    assert Path(cwd) == CDK_WORKDIR
    assert "stdout" not in kw and "capture_output" not in kw  # output is not swallowed


def test_failed_cdk_deploy_is_exit_2_with_the_status(synth_calls: list[dict[str, Any]],
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 3))
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    assert cli.main(["deploy", "--backend", "aws", "--stack-name", "S1"]) == 2
    assert "exited with status 3" in capsys.readouterr().err


def test_missing_npx_is_a_clear_error_and_nothing_runs(synth_calls: list[dict[str, Any]], no_processes: list[Any],
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert cli.main(["deploy", "--backend", "aws"]) == 2
    err = capsys.readouterr().err
    assert "'npx' was not found on PATH" in err and "--dry-run" in err
    assert no_processes == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["deploy", "--backend", "aws", "--dry-run", "--stack-name", "9bad"], "'9bad' is not a CloudFormation stack"),
        (["deploy", "--backend", "aws", "--dry-run", "--stack-name", "A", "-c", "stackName=B"], "context 'stackName'"),
        (["deploy", "--backend", "aws", "--dry-run", "-c", "nested={\"a\":1}"], "'nested'"),
        (["deploy", "--backend", "localstack"], "only 'aws'"),
        (["deploy", "--dry-run"], "--backend aws only"),
        (["deploy", "--backend", "aws", "-c", "novalue"], "key=value"),
    ],
)
def test_bad_input_is_one_line_naming_the_thing_and_synthesizes_nothing(
        argv: list[str], message: str, synth_calls: list[dict[str, Any]], no_processes: list[Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err.replace("\n", " ")
    assert synth_calls == [] and no_processes == []


def test_synth_failure_is_a_cli_error(monkeypatch: pytest.MonkeyPatch, no_processes: list[Any],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*a: Any, **k: Any) -> SynthResult:
        raise SynthError("app.py: ValueError: batchSize must be 1-10000")

    monkeypatch.setattr(synth_module, "synthesize", broken)
    assert cli.main(["deploy", "--backend", "aws", "--dry-run", "-c", "batchSize=0"]) == 2
    assert "synthesis of infra/ failed: app.py: ValueError" in capsys.readouterr().err
