"""The AWS backend: a real account, credentials from boto3's default chain, deployed with `cdk deploy`.

Nothing here creates resources. The stack is deployed by the CDK CLI (`cdk_deploy_command`)
so what runs in AWS is exactly what `infra/` synthesizes, with no local applier in between;
the harness only builds the command line so the caller (and the docs) can show it verbatim.
"""

from __future__ import annotations

import re
import secrets
import shlex
import sys
from pathlib import Path
from typing import Any, Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from harness.backends.base import Backend, BackendError, BackendInfo

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CDK_APP = PROJECT_ROOT / "infra" / "app.py"
# Run the commands here: the CLI reads cdk.json (feature flags, asset metadata) only from its
# working directory, and infra/cdk.json is what makes AWS get the same template as the local synth.
CDK_WORKDIR = PROJECT_ROOT / "infra"
CDK_CLI = ("npx", "--yes", "aws-cdk@2")
DEFAULT_STACK = "ResiliencePipeline"

# CloudFormation's rule (infra/settings.py applies the same one to context 'stackName').
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_CONTEXT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_:.-]*$")


class AwsBackend(Backend):
    """A real AWS account. `start()`/`stop()` do nothing: `cdk deploy`/`destroy` own the stack."""

    name = "aws"

    def __init__(self, region: str = "us-east-1") -> None:
        super().__init__(region)
        self._account_id: str | None = None
        self._session: boto3.session.Session | None = None

    @property
    def endpoint_url(self) -> None:
        return None

    def _credentials(self) -> dict[str, str]:
        # The default chain (env, profile, SSO, instance role): never the local fake keys.
        return {}

    def client(self, service: str, **config: Any) -> Any:
        """Like `Backend.client`, but from this backend's own boto3 Session.

        boto3's module-level default session resolves credentials once per process and keeps
        them; a backend built after the environment changed (a new profile, rotated keys) must
        see the new ones.
        """
        if not config and service in self._clients:
            return self._clients[service]
        if self._session is None:
            self._session = boto3.session.Session(region_name=self.region)
        client = self._session.client(
            service, config=Config(retries={"max_attempts": 2, "mode": "standard"}, **config)
        )
        if not config:
            self._clients[service] = client
        return client

    def _identity(self) -> dict[str, Any]:
        sts = self.client("sts", connect_timeout=3, read_timeout=5)
        try:
            return sts.get_caller_identity()
        except (BotoCoreError, ClientError) as exc:
            raise BackendError(
                f"AWS STS GetCallerIdentity failed in {self.region} ({type(exc).__name__}: {exc}); "
                "set credentials in the environment (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
            ) from None

    @property
    def account_id(self) -> str:
        """Asked of STS once, on first use: constructing the backend must not need the network."""
        if self._account_id is None:
            self._account_id = str(self._identity()["Account"])
        return self._account_id

    def start(self) -> None:
        return None

    def stop(self) -> None:
        self._clients.clear()
        self._session = None

    def healthy(self) -> bool:
        try:
            self._account_id = str(self._identity()["Account"])
        except BackendError:
            return False
        return True

    def describe(self) -> BackendInfo:
        """Never raises: a failed run's report still names the backend and why it had no account."""
        try:
            account, details = self.account_id, {}
        except BackendError as exc:
            account, details = "unknown", {"identity_error": str(exc)}
        return BackendInfo(self.name, None, self.region, account, details)

    def lambda_environment(self) -> dict[str, str]:
        """Nothing: AWS sets region and credentials itself, and refuses them as reserved keys."""
        return {}


def per_run_stack_name(base: str = DEFAULT_STACK, run_id: str | None = None) -> str:
    """`<base>-<run id>`, so parallel or repeated runs never update each other's stack."""
    suffix = run_id if run_id is not None else secrets.token_hex(4)
    name = f"{base}-{suffix}"
    _check_stack_name(name, "stack name")
    return name


def _check_stack_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _STACK_NAME.match(name):
        raise BackendError(
            f"{what} {name!r} is not a CloudFormation stack name "
            "(a letter, then letters, digits or '-', at most 128 characters)"
        )


def _context_args(stack_name: str, context: Mapping[str, Any]) -> list[str]:
    given = context.get("stackName")
    if given is not None and given != stack_name:
        raise BackendError(
            f"context 'stackName' is {given!r} but the stack to deploy is {stack_name!r}; "
            "pass the name once, as stack_name"
        )
    args: list[str] = []
    for key, value in {**context, "stackName": stack_name}.items():
        if not isinstance(key, str) or not _CONTEXT_KEY.match(key):
            raise BackendError(f"CDK context key {key!r} is not usable with `-c key=value`")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float, str)):
            text = str(value)
        else:
            raise BackendError(
                f"CDK context {key!r}: value must be a string, number or boolean, got {type(value).__name__}"
            )
        args += ["-c", f"{key}={text}"]
    return args


def _app_arg(python: str, app: Path) -> str:
    return f"{shlex.quote(python)} {shlex.quote(str(app))}"


def cdk_deploy_command(
    stack_name: str,
    context: Mapping[str, Any],
    *,
    python: str = sys.executable,
    app: Path = CDK_APP,
) -> list[str]:
    """The exact `cdk deploy` argv for `infra/`; context 'stackName' always equals `stack_name`.

    Run it with `cwd=CDK_WORKDIR` (infra/), so infra/cdk.json applies. `--require-approval never`
    because a test run has no human to answer IAM-change prompts; use a per-run stack name so
    that is only ever a throwaway stack.
    """
    _check_stack_name(stack_name, "stack_name")
    return [
        *CDK_CLI,
        "deploy",
        stack_name,
        "--app",
        _app_arg(python, app),
        "--require-approval",
        "never",
        *_context_args(stack_name, context),
    ]


def cdk_destroy_command(
    stack_name: str,
    context: Mapping[str, Any] | None = None,
    *,
    python: str = sys.executable,
    app: Path = CDK_APP,
) -> list[str]:
    """The `cdk destroy` argv matching `cdk_deploy_command` (same app and context, so the same stack)."""
    _check_stack_name(stack_name, "stack_name")
    return [
        *CDK_CLI,
        "destroy",
        stack_name,
        "--app",
        _app_arg(python, app),
        "--force",
        *_context_args(stack_name, context or {}),
    ]
