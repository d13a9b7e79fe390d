"""RemoteLambdaRuntime: register against moto's real CreateFunction (no Docker needed for that),
invoke against botocore's Stubber (moto's Invoke would need Docker, and is never called here)."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Iterator

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from harness.backends import get_backend
from harness.backends.remote_lambda import (
    RemoteLambdaRuntime,
    RemoteRuntimeError,
    code_sha256,
    ensure_lambda_role,
    zip_code_dir,
)
from harness.invoke import InvokeServiceError
from harness.journal import Journal
from harness.runtime import FunctionSpec, InvalidFunctionSpec


@pytest.fixture(scope="module")
def moto() -> Iterator[object]:
    with get_backend("embedded") as backend:
        yield backend


@pytest.fixture
def code(tmp_path: Path) -> Path:
    d = tmp_path / "fn"
    (d / "pkg").mkdir(parents=True)
    (d / "app.py").write_text("def handler(event, context):\n    return event\n")
    (d / "pkg" / "util.py").write_text("X = 1\n")
    (d / "__pycache__").mkdir()
    (d / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0junk")
    return d


def _runtime(moto: object, **kw: object) -> RemoteLambdaRuntime:
    role = ensure_lambda_role(moto.client("iam"))  # type: ignore[attr-defined]
    return RemoteLambdaRuntime(moto.client("lambda"), role_arn=role, waiter_delay_s=1,  # type: ignore[attr-defined]
                               waiter_max_attempts=5, **kw)


def test_zip_is_reproducible_and_skips_bytecode(code: Path) -> None:
    first = zip_code_dir(code)
    (code / "app.py").touch()  # a new mtime must not change the package
    assert zip_code_dir(code) == first
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert names == ["app.py", "pkg/util.py"]
    (code / "app.py").write_text("def handler(event, context):\n    return 2\n")
    assert zip_code_dir(code) != first


def test_ensure_lambda_role_creates_once_and_reuses(moto: object) -> None:
    iam = moto.client("iam")  # type: ignore[attr-defined]
    arn = ensure_lambda_role(iam, "role-reuse-test")
    assert arn.endswith(":role/role-reuse-test")
    assert ensure_lambda_role(iam, "role-reuse-test") == arn
    trust = iam.get_role(RoleName="role-reuse-test")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_register_creates_the_function_with_the_spec_environment_only(moto: object, code: Path,
                                                                      tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    rt = _runtime(moto, journal=journal)
    rt.register(FunctionSpec("remote-create", code, "app.handler", environment={"TABLE": "t1"},
                             timeout_s=2.5, memory_mb=256))
    cfg = moto.client("lambda").get_function_configuration(FunctionName="remote-create")  # type: ignore[attr-defined]
    assert cfg["State"] == "Active"
    assert cfg["Environment"]["Variables"] == {"TABLE": "t1"}  # no AWS_ENDPOINT_URL from the harness
    assert (cfg["Handler"], cfg["Runtime"], cfg["Timeout"], cfg["MemorySize"]) == ("app.handler", "python3.11", 3, 256)
    assert cfg["Role"] == rt.role_arn
    assert cfg["CodeSha256"] == code_sha256(zip_code_dir(code))
    [entry] = journal.entries("runtime_register", function="remote-create")
    assert entry["action"] == "created" and entry["timeout_rounded"] is True
    assert [s.name for s in rt.functions()] == ["remote-create"]
    assert rt.functions()[0].arn == f"arn:aws:lambda:us-east-1:{rt.account_id}:function:remote-create"


def test_register_again_updates_code_and_configuration(moto: object, code: Path, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    rt = _runtime(moto, journal=journal)
    rt.register(FunctionSpec("remote-update", code, "app.handler", environment={"A": "1"}))
    (code / "app.py").write_text("def handler(event, context):\n    return 'v2'\n")
    rt.register(FunctionSpec("remote-update", code, "app.other", environment={"B": "2"}, timeout_s=9))
    cfg = moto.client("lambda").get_function_configuration(FunctionName="remote-update")  # type: ignore[attr-defined]
    assert cfg["Environment"]["Variables"] == {"B": "2"}
    assert (cfg["Handler"], cfg["Timeout"]) == ("app.other", 9)
    assert cfg["CodeSha256"] == code_sha256(zip_code_dir(code))
    assert [e["action"] for e in journal.entries("runtime_register", function="remote-update")] == ["created", "updated"]
    assert len(rt.functions()) == 1


def test_bad_spec_fails_before_any_api_call(moto: object, code: Path) -> None:
    rt = _runtime(moto)
    with pytest.raises(InvalidFunctionSpec, match="AWS_REGION"):
        rt.register(FunctionSpec("remote-bad", code, "app.handler", environment={"AWS_REGION": "x"}))
    with pytest.raises(InvalidFunctionSpec, match="not a directory"):
        rt.register(FunctionSpec("remote-bad", code / "missing", "app.handler"))
    lam = moto.client("lambda")  # type: ignore[attr-defined]
    assert "remote-bad" not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]


def test_api_failure_names_the_function_and_the_call(moto: object, code: Path) -> None:
    rt = RemoteLambdaRuntime(moto.client("lambda"),  # type: ignore[attr-defined]
                             role_arn="arn:aws:iam::123456789012:role/does-not-exist")
    with pytest.raises(RemoteRuntimeError, match="'remote-norole'.*CreateFunction"):
        rt.register(FunctionSpec("remote-norole", code, "app.handler"))
    assert rt.functions() == []


def test_constructor_rejects_a_non_arn_role_and_a_non_python_runtime() -> None:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with pytest.raises(ValueError, match="role_arn"):
        RemoteLambdaRuntime(client, role_arn="harness-lambda-role")
    with pytest.raises(ValueError, match="runtime"):
        RemoteLambdaRuntime(client, role_arn="arn:aws:iam::1:role/r", runtime="nodejs20.x")


# ---- invoke, through the Stubber ----------------------------------------------------------------

def _stubbed(tmp_path: Path) -> tuple[RemoteLambdaRuntime, Stubber, Journal]:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    journal = Journal(tmp_path / "j.jsonl")
    rt = RemoteLambdaRuntime(client, role_arn="arn:aws:iam::000000000000:role/r", journal=journal)
    return rt, Stubber(client), journal


def _body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def test_invoke_success_and_function_error_are_results_and_journaled(tmp_path: Path) -> None:
    rt, stub, journal = _stubbed(tmp_path)
    expected = {"FunctionName": "consumer", "InvocationType": "RequestResponse", "Payload": b'{"a":1}',
                "LogType": "Tail"}
    stub.add_response("invoke", {"StatusCode": 200, "Payload": _body(b'{"ok":true}'),
                                 "LogResult": base64.b64encode(b"START\n").decode(),
                                 "ResponseMetadata": {"RequestId": "r-1"}}, expected)
    error_doc = b'{"errorType":"ValueError","errorMessage":"poison"}'
    stub.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _body(error_doc),
                                 "ResponseMetadata": {"RequestId": "r-2"}}, expected)
    with stub:
        ok = rt.invoke("consumer", b'{"a":1}')
        bad = rt.invoke("consumer", bytearray(b'{"a":1}'))
    assert (ok.function_error, ok.payload, ok.request_id, ok.log_tail) == (None, b'{"ok":true}', "r-1", "START\n")
    assert (bad.function_error, bad.payload) == ("Unhandled", error_doc)
    entries = journal.entries("runtime_invoke", function="consumer")
    assert [(e["function_error"], e["error_type"], e["remote"]) for e in entries] == [
        (None, None, True), ("Unhandled", "ValueError", True)]


def test_invoke_throttle_is_a_not_reached_error_flagged_throttled(tmp_path: Path) -> None:
    rt, stub, journal = _stubbed(tmp_path)
    stub.add_client_error("invoke", service_error_code="TooManyRequestsException", http_status_code=429)
    stub.add_client_error("invoke", service_error_code="ResourceNotFoundException", http_status_code=404)
    with stub:
        with pytest.raises(InvokeServiceError) as throttled:
            rt.invoke("consumer", b"{}")
        with pytest.raises(InvokeServiceError) as missing:
            rt.invoke("nope", b"{}")
    assert throttled.value.throttled is True
    assert missing.value.throttled is False and "nope" in str(missing.value)
    assert journal.entries("runtime_invoke") == []  # the function was never reached


def test_invoke_rejects_a_non_bytes_payload(tmp_path: Path) -> None:
    rt, _, _ = _stubbed(tmp_path)
    with pytest.raises(TypeError, match="'consumer'.*bytes"):
        rt.invoke("consumer", "{}")  # type: ignore[arg-type]


# ---- per-function roles ---------------------------------------------------------------------------

def _role(moto: object, name: str) -> str:
    return ensure_lambda_role(moto.client("iam"), name)  # type: ignore[attr-defined]


def test_register_uses_the_spec_role_and_falls_back_to_the_default(moto: object, code: Path,
                                                                    tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    rt = _runtime(moto, journal=journal)
    own = _role(moto, "remote-own-role")
    assert own != rt.role_arn
    rt.register(FunctionSpec("remote-own-role-fn", code, "app.handler", role_arn=own))
    rt.register(FunctionSpec("remote-default-role-fn", code, "app.handler"))
    lam = moto.client("lambda")  # type: ignore[attr-defined]
    assert lam.get_function_configuration(FunctionName="remote-own-role-fn")["Role"] == own
    assert lam.get_function_configuration(FunctionName="remote-default-role-fn")["Role"] == rt.role_arn
    entries = {e["function"]: e for e in journal.entries("runtime_register")}
    assert (entries["remote-own-role-fn"]["role_arn"], entries["remote-own-role-fn"]["default_role"]) == (own, False)
    assert entries["remote-default-role-fn"]["default_role"] is True


def test_register_again_moves_the_function_to_the_new_role(moto: object, code: Path) -> None:
    rt = _runtime(moto)
    first, second = _role(moto, "remote-role-a"), _role(moto, "remote-role-b")
    rt.register(FunctionSpec("remote-role-move", code, "app.handler", role_arn=first))
    rt.register(FunctionSpec("remote-role-move", code, "app.handler", role_arn=second))
    lam = moto.client("lambda")  # type: ignore[attr-defined]
    assert lam.get_function_configuration(FunctionName="remote-role-move")["Role"] == second


def test_create_function_params_carry_the_spec_role(code: Path) -> None:
    """The exact CreateFunction request, through botocore's Stubber: Role is the spec's."""
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    own = "arn:aws:iam::000000000000:role/Stack-ConsumerServiceRole-1"
    rt = RemoteLambdaRuntime(client, role_arn="arn:aws:iam::000000000000:role/harness-lambda-role",
                             waiter_delay_s=1, waiter_max_attempts=1)
    stub = Stubber(client)
    stub.add_client_error("get_function_configuration", service_error_code="ResourceNotFoundException",
                          http_status_code=404)
    expected = {"FunctionName": "consumer", "Code": {"ZipFile": zip_code_dir(code)}, "Publish": False,
                "Role": own, "Handler": "app.handler", "Runtime": "python3.11", "Timeout": 3, "MemorySize": 128,
                "Environment": {"Variables": {}}}
    stub.add_response("create_function", {"FunctionName": "consumer", "State": "Pending"}, expected)
    stub.add_response("get_function", {"Configuration": {"FunctionName": "consumer", "State": "Active"}},
                      {"FunctionName": "consumer"})  # boto3's function_active_v2 waiter
    with stub:
        rt.register(FunctionSpec("consumer", code, "app.handler", role_arn=own))
    stub.assert_no_pending_responses()


def test_a_bad_spec_role_fails_before_any_api_call(moto: object, code: Path) -> None:
    rt = _runtime(moto)
    with pytest.raises(InvalidFunctionSpec, match="'remote-badrole'.*role_arn"):
        rt.register(FunctionSpec("remote-badrole", code, "app.handler", role_arn="harness-lambda-role"))
    lam = moto.client("lambda")  # type: ignore[attr-defined]
    assert "remote-badrole" not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]


def test_deployed_stack_functions_run_under_their_template_roles(moto: object, tmp_path: Path) -> None:
    """The applier and RemoteLambdaRuntime together, on moto's Lambda (CreateFunction needs no
    Docker): each function of the CDK fixture stack is created with its own role, not the default."""
    import json as _json

    from harness.deploy import apply_template

    assembly = Path(__file__).parents[1] / "deploy" / "fixtures" / "assembly"
    template = _json.loads((assembly / "Fixture.template.json").read_text())
    rt = _runtime(moto)

    class _Esm:
        def create_event_source_mapping(self, **params: object) -> dict:
            return {"UUID": "00000000-0000-0000-0000-000000000001"}

    class _Notifications:
        def configure(self, bucket: str, config: dict) -> None:
            pass

    stack = apply_template(template, stack_name="RemoteRoles", assembly_dir=assembly, backend=moto, runtime=rt,
                           esm=_Esm(), notifications=_Notifications())
    lam = moto.client("lambda")  # type: ignore[attr-defined]
    got = {}
    for lid, name in stack.functions.items():
        role_lid = template["Resources"][lid]["Properties"]["Role"]["Fn::GetAtt"][0]
        got[lid] = lam.get_function_configuration(FunctionName=name)["Role"]
        assert got[lid] == stack.resources[role_lid].attributes["Arn"]
    assert len(set(got.values())) == 2 and rt.role_arn not in got.values()


# ---- aliases, versions and layers ----------------------------------------------------------------

def test_invoke_of_an_alias_passes_qualifier_and_reports_the_executed_version(tmp_path: Path) -> None:
    """What the ESM sends for a mapping on an alias (spec 3.2): `name:alias` -> FunctionName + Qualifier."""
    rt, stub, _ = _stubbed(tmp_path)
    stub.add_response("invoke", {"StatusCode": 200, "Payload": _body(b"null"), "ExecutedVersion": "3",
                                 "ResponseMetadata": {"RequestId": "r-q"}},
                      {"FunctionName": "consumer", "InvocationType": "RequestResponse", "Payload": b"{}",
                       "LogType": "Tail", "Qualifier": "live"})
    stub.add_response("invoke", {"StatusCode": 200, "Payload": _body(b"null"), "ExecutedVersion": "$LATEST",
                                 "ResponseMetadata": {"RequestId": "r-u"}},
                      {"FunctionName": "consumer", "InvocationType": "RequestResponse", "Payload": b"{}",
                       "LogType": "Tail"})
    with stub:
        assert rt.invoke("consumer:live", b"{}").executed_version == "3"
        assert rt.invoke("consumer", b"{}").executed_version == "$LATEST"
    stub.assert_no_pending_responses()


def test_publish_version_and_register_alias_create_or_move_it(tmp_path: Path) -> None:
    rt, stub, _ = _stubbed(tmp_path)
    stub.add_response("publish_version", {"Version": "4"}, {"FunctionName": "consumer"})
    stub.add_response("create_alias", {"Name": "live"}, {"FunctionName": "consumer", "Name": "live", "FunctionVersion": "4"})
    stub.add_client_error("create_alias", service_error_code="ResourceConflictException", http_status_code=409,
                          expected_params={"FunctionName": "consumer", "Name": "live", "FunctionVersion": "4"})
    stub.add_response("update_alias", {"Name": "live"}, {"FunctionName": "consumer", "Name": "live", "FunctionVersion": "4"})
    stub.add_client_error("create_alias", service_error_code="ResourceNotFoundException", http_status_code=404)
    with stub:
        assert rt.publish_version("consumer") == "4"
        rt.register_alias("consumer", "live", "4")
        rt.register_alias("consumer", "live", "4")  # exists already: moved with UpdateAlias
        with pytest.raises(RemoteRuntimeError, match="function 'consumer': Lambda CreateAlias failed: ResourceNotFound"):
            rt.register_alias("consumer", "live", "4")
    stub.assert_no_pending_responses()


def test_register_publishes_the_spec_layers_and_attaches_them(moto: object, code: Path, tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "shared.py").write_text("X = 1\n")
    rt = _runtime(moto)
    rt.register(FunctionSpec("remote-with-layer", code, "app.handler", layers=(layer,)))
    rt.register(FunctionSpec("remote-same-layer", code, "app.handler", layers=(layer,)))
    lam = moto.client("lambda")  # type: ignore[attr-defined]
    first = lam.get_function_configuration(FunctionName="remote-with-layer")["Layers"]
    second = lam.get_function_configuration(FunctionName="remote-same-layer")["Layers"]
    assert len(first) == 1 and ":layer:harness-layer-" in first[0]["Arn"]
    assert first[0]["Arn"].rsplit(":", 1)[0] == second[0]["Arn"].rsplit(":", 1)[0]  # one layer, named by content
