"""LocalPipeline picks its parts by backend and ESM choice, without Docker.

Two ways: injected fake factories (what gets built, in which order), and the real classes with
the embedded backend posing as LocalStack for `start()` only (nothing is deployed or invoked,
because moto's Lambda Invoke and moto's mappings would need Docker).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.backends.base import Backend
from harness.backends.embedded import EmbeddedBackend
from harness.backends.remote_lambda import RemoteLambdaRuntime
from harness.esm import EsmService
from harness.esm.native import NativeEsm
from harness.pipeline import DEFAULT_FACTORIES, LocalPipeline, PipelineError, Wiring, choose_wiring
from harness.runtime import LocalRuntime


@pytest.mark.parametrize(
    ("backend", "esm", "expected"),
    [
        ("embedded", "harness", Wiring(runtime="local", esm="harness", lambda_api=True)),
        ("localstack", "harness", Wiring(runtime="remote", esm="harness", lambda_api=False)),
        ("localstack", "native", Wiring(runtime="remote", esm="native", lambda_api=False)),
    ],
)
def test_choose_wiring(backend: str, esm: str, expected: Wiring) -> None:
    assert choose_wiring(backend, esm) == expected


@pytest.mark.parametrize(
    ("backend", "esm", "message"),
    [
        ("embedded", "native", "moto"),
        ("aws", "harness", "shardproof deploy --backend aws"),
        ("localstack", "moto", "esm must be one of harness, native, got 'moto'"),
        ("elsewhere", "harness", "'elsewhere'"),
    ],
)
def test_choose_wiring_refuses_with_the_reason(backend: str, esm: str, message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        choose_wiring(backend, esm)


class FakeLocalStack(Backend):
    name = "localstack"

    def __init__(self) -> None:
        super().__init__()
        self.started = self.stopped = False

    @property
    def endpoint_url(self) -> str:
        return "http://127.0.0.1:1"

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def healthy(self) -> bool:
        return True


class Part:
    def __init__(self, kind: str, built: list[str]) -> None:
        self.kind, self.built = kind, built
        self.runtime: Any = None

    def start(self) -> None:
        self.built.append(f"{self.kind}.start")

    def stop(self) -> None:
        self.built.append(f"{self.kind}.stop")


def _fakes(built: list[str]) -> dict[str, Any]:
    def factory(kind: str) -> Any:
        def build(pipe: LocalPipeline) -> Part:
            built.append(kind)
            return Part(kind, built)
        return build
    return {key: factory(key) for key in DEFAULT_FACTORIES}


@pytest.mark.parametrize(("esm", "esm_part"), [("harness", "harness_esm"), ("native", "native_esm")])
def test_localstack_builds_a_remote_runtime_and_no_lambda_api(tmp_path: Path, esm: str, esm_part: str) -> None:
    built: list[str] = []
    backend = FakeLocalStack()
    with LocalPipeline(backend, esm=esm, factories=_fakes(built), journal_path=tmp_path / "j.jsonl") as pipe:
        assert pipe.lambda_api is None
        assert (pipe.runtime.kind, pipe.esm.kind, pipe.notifications.kind) == ("remote_runtime", esm_part,
                                                                               "notifications")
        [started] = pipe.journal.entries("backend_started")
        assert (started["runtime"], started["esm"]) == ("remote", esm)
    assert built[:4] == ["remote_runtime", "remote_runtime.start", esm_part, "notifications"]
    assert built[4:] == ["notifications.stop", f"{esm_part}.stop", "remote_runtime.stop"]  # reverse order
    assert backend.started and backend.stopped


def test_embedded_builds_the_lambda_api_first_and_hands_it_the_runtime(tmp_path: Path) -> None:
    built: list[str] = []
    fakes = _fakes(built)
    pipe = LocalPipeline(EmbeddedBackend(), factories=fakes, journal_path=tmp_path / "j.jsonl")
    try:
        pipe.start()
        assert built[:5] == ["lambda_api", "lambda_api.start", "local_runtime", "local_runtime.start", "harness_esm"]
        assert pipe.lambda_api.runtime is pipe.runtime
    finally:
        pipe.stop()


def test_bad_choices_fail_before_the_backend_starts() -> None:
    backend = FakeLocalStack()
    with pytest.raises(PipelineError, match="unknown factory key"):
        LocalPipeline(backend, factories={"runtime": lambda p: None})
    with pytest.raises(PipelineError, match="native"):
        LocalPipeline("embedded", esm="native")
    assert not backend.started


class EmbeddedPosingAsLocalStack(EmbeddedBackend):
    """moto answers CreateRole and hands out clients; only start() runs, so nothing is invoked."""

    name = "localstack"


@pytest.mark.parametrize(("esm", "esm_class"), [("harness", EsmService), ("native", NativeEsm)])
def test_localstack_real_classes(tmp_path: Path, esm: str, esm_class: type) -> None:
    with LocalPipeline(EmbeddedPosingAsLocalStack(), esm=esm, journal_path=tmp_path / "j.jsonl") as pipe:
        assert isinstance(pipe.runtime, RemoteLambdaRuntime)
        assert isinstance(pipe.esm, esm_class)
        assert pipe.lambda_api is None
        assert pipe.runtime.role_arn == pipe.backend.client("iam").get_role(RoleName="harness-lambda-role")["Role"]["Arn"]
        assert pipe.notifications._invoker is pipe.runtime
        if esm == "harness":
            assert pipe.esm.invoker is pipe.runtime


def test_embedded_real_classes_unchanged(tmp_path: Path) -> None:
    with LocalPipeline("embedded", journal_path=tmp_path / "j.jsonl") as pipe:
        assert isinstance(pipe.runtime, LocalRuntime)
        assert isinstance(pipe.esm, EsmService) and pipe.esm.invoker is pipe.runtime
        assert pipe.runtime._base_env["AWS_ENDPOINT_URL_LAMBDA"] == pipe.lambda_api.endpoint_url
        assert pipe.runtime._base_env["AWS_ENDPOINT_URL"] == pipe.backend.endpoint_url


def test_the_real_stack_deploys_through_the_remote_runtime(tmp_path: Path) -> None:
    """The applier + RemoteLambdaRuntime on the synthesized template, into moto's Lambda: every
    function is created from its asset with the template's environment and nothing of the
    harness's. Polling is never started, so nothing is invoked."""
    from harness.scenarios import load_scenarios, select

    [scenario] = select(load_scenarios(), ["one-poison-bisect"])
    with LocalPipeline(EmbeddedPosingAsLocalStack(), journal_path=tmp_path / "j.jsonl") as pipe:
        stack = pipe.deploy(dict(scenario.context), start_polling=False)
        lam = pipe.backend.client("lambda")
        names = set(stack.functions.values())
        assert {pipe.output("ConsumerFunctionName"), pipe.output("FailureHandlerFunctionName")} <= names
        for name in names:
            cfg = lam.get_function_configuration(FunctionName=name)
            env = cfg.get("Environment", {}).get("Variables", {})
            assert cfg["State"] == "Active" and cfg["Runtime"] == "python3.11"
            assert not any(k.startswith("AWS_ENDPOINT_URL") for k in env), (name, env)
            # Each function runs under its own template role, not the runtime's stand-in default.
            [lid] = [k for k, v in stack.functions.items() if v == name]
            role_lid = stack_template_role(dict(scenario.context), lid)
            assert cfg["Role"] == stack.resources[role_lid].attributes["Arn"] != pipe.runtime.role_arn
        [mapping] = pipe.esm.list_event_source_mappings()
        assert mapping["FunctionArn"].endswith(f":function:{pipe.output('ConsumerFunctionName')}")
        assert pipe.journal.entries("runtime_invoke") == []
        assert len(pipe.journal.entries("runtime_register", remote=True)) == len(names)


def stack_template_role(context: dict, function_lid: str) -> str:
    """The logical id of the IAM role the deployed template gives a function (Role: GetAtt X.Arn)."""
    from harness.deploy.synth import synthesize

    role = synthesize(context).template["Resources"][function_lid]["Properties"]["Role"]["Fn::GetAtt"]
    return role[0] if isinstance(role, list) else role.split(".")[0]


class BackendFailingToStop(FakeLocalStack):
    def stop(self) -> None:
        raise RuntimeError("container did not stop")


def test_a_backend_that_fails_to_stop_is_journaled_and_the_journal_closed(tmp_path: Path) -> None:
    import os

    path = tmp_path / "j.jsonl"
    pipe = LocalPipeline(BackendFailingToStop(), factories=_fakes([]), journal_path=path)
    pipe.start()
    with pytest.raises(RuntimeError, match="container did not stop"):
        pipe.stop()
    kinds = [json.loads(line)["kind"] for line in path.read_text().splitlines()]
    assert kinds[-2:] == ["stop_error", "stopped"]
    open_files = {os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")}
    assert str(path.resolve()) not in open_files
