"""AwsBackend and the cdk command lines, with nothing leaving the machine.

STS is pointed at loopback through AWS_ENDPOINT_URL_STS (which boto3 honours), either at a
closed port or at a fake STS that answers GetCallerIdentity; credentials are fake or absent.
"""

from __future__ import annotations

import shlex
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from harness.backends import BackendError, get_backend
from harness.backends.aws import (
    CDK_APP,
    CDK_WORKDIR,
    AwsBackend,
    cdk_deploy_command,
    cdk_destroy_command,
    per_run_stack_name,
)

IDENTITY_XML = b"""<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/ci</Arn><UserId>AIDAEXAMPLE</UserId>
<Account>111122223333</Account></GetCallerIdentityResult>
<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"""


@pytest.fixture
def isolated_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No profile, no config files, no instance metadata, no global endpoint override."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                 "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


@pytest.fixture
def fake_sts() -> Iterator[dict]:
    seen: dict = {"requests": 0, "auth": None}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen["requests"] += 1
            seen["auth"] = self.headers.get("Authorization")
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(IDENTITY_XML)))
            self.end_headers()
            self.wfile.write(IDENTITY_XML)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    seen["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def test_get_backend_builds_aws_without_network() -> None:
    backend = get_backend("aws", region="eu-west-1")
    assert isinstance(backend, AwsBackend)
    assert backend.endpoint_url is None
    assert backend.region == "eu-west-1"
    assert backend.lambda_environment() == {}
    backend.start()  # no-ops: cdk owns the stack
    backend.stop()


def test_healthy_false_with_invalid_credentials_and_sts_unreachable(isolated_aws_env, closed_port_url: str) -> None:
    isolated_aws_env.setenv("AWS_ACCESS_KEY_ID", "AKIAINVALIDINVALID00")
    isolated_aws_env.setenv("AWS_SECRET_ACCESS_KEY", "invalid")
    isolated_aws_env.setenv("AWS_ENDPOINT_URL_STS", closed_port_url)
    backend = AwsBackend()
    began = time.monotonic()
    assert backend.healthy() is False
    assert time.monotonic() - began < 10
    with pytest.raises(BackendError, match="STS GetCallerIdentity failed.*set credentials"):
        _ = backend.account_id


def test_healthy_false_without_any_credentials(isolated_aws_env, closed_port_url: str) -> None:
    isolated_aws_env.setenv("AWS_ENDPOINT_URL_STS", closed_port_url)
    backend = AwsBackend()
    assert backend.healthy() is False
    info = backend.describe()
    assert info.account_id == "unknown"
    assert "NoCredentialsError" in info.details["identity_error"]


def test_healthy_and_account_from_sts_using_the_default_chain(isolated_aws_env, fake_sts: dict) -> None:
    isolated_aws_env.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT0")
    isolated_aws_env.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-env")
    isolated_aws_env.setenv("AWS_ENDPOINT_URL_STS", fake_sts["url"])
    backend = AwsBackend()
    assert fake_sts["requests"] == 0, "building the backend must not call STS"
    assert backend.account_id == "111122223333"
    assert backend.account_id == "111122223333"
    assert fake_sts["requests"] == 1, "account id is asked once and cached"
    # The environment's key signed the request, not the local backends' fake 'testing' key.
    assert "Credential=AKIAFROMENVIRONMENT0/" in fake_sts["auth"]
    assert backend.healthy() is True
    assert backend.describe().account_id == "111122223333"


def test_deploy_command_is_exact() -> None:
    cmd = cdk_deploy_command(
        "ResiliencePipeline-ab12cd34",
        {"batchSize": 5, "bisect": True, "reportBatchItemFailures": False},
        python="/venv/bin/python",
        app=Path("/repo/infra/app.py"),
    )
    assert cmd == [
        "npx", "--yes", "aws-cdk@2", "deploy", "ResiliencePipeline-ab12cd34",
        "--app", "/venv/bin/python /repo/infra/app.py",
        "--require-approval", "never",
        "-c", "batchSize=5", "-c", "bisect=true", "-c", "reportBatchItemFailures=false",
        "-c", "stackName=ResiliencePipeline-ab12cd34",
    ]


def test_default_app_is_infra_app_py_and_paths_with_spaces_are_quoted() -> None:
    assert CDK_APP.parent.name == "infra" and CDK_APP.name == "app.py"
    assert CDK_WORKDIR == CDK_APP.parent
    cmd = cdk_deploy_command("S1", {}, python="/my venv/python", app=Path("/a b/infra/app.py"))
    app_arg = cmd[cmd.index("--app") + 1]
    assert shlex.split(app_arg) == ["/my venv/python", "/a b/infra/app.py"]


def test_destroy_command_matches_deploy() -> None:
    ctx = {"batchSize": 3}
    cmd = cdk_destroy_command("S1", ctx, python="py", app=Path("/r/infra/app.py"))
    assert cmd == ["npx", "--yes", "aws-cdk@2", "destroy", "S1", "--app", "py /r/infra/app.py", "--force",
                   "-c", "batchSize=3", "-c", "stackName=S1"]


def test_context_stack_name_must_agree() -> None:
    with pytest.raises(BackendError, match="context 'stackName' is 'Other'.*'Mine'"):
        cdk_deploy_command("Mine", {"stackName": "Other"})
    assert cdk_deploy_command("Mine", {"stackName": "Mine"}).count("stackName=Mine") == 1


@pytest.mark.parametrize("name", ["", "1abc", "has_underscore", "x" * 129, "a b"])
def test_bad_stack_name_is_named(name: str) -> None:
    with pytest.raises(BackendError, match="stack_name .* is not a CloudFormation stack name"):
        cdk_deploy_command(name, {})


def test_bad_context_is_named() -> None:
    with pytest.raises(BackendError, match="CDK context key 'a=b'"):
        cdk_deploy_command("S", {"a=b": 1})
    with pytest.raises(BackendError, match="CDK context 'batchSize': value must be .* got list"):
        cdk_deploy_command("S", {"batchSize": [1]})


def test_per_run_stack_name_is_unique_and_valid() -> None:
    a, b = per_run_stack_name(), per_run_stack_name()
    assert a != b and a.startswith("ResiliencePipeline-")
    assert per_run_stack_name("Base", "run7") == "Base-run7"
    with pytest.raises(BackendError, match="stack name 'Base-bad_id'"):
        per_run_stack_name("Base", "bad_id")
