"""RemoteLambdaRuntime: the runtime surface the applier, ESM and notifications use, over a real Lambda API.

Why: on LocalStack (and any backend with a working Lambda) the function code must run in that
backend's own Lambda, not in the harness's local workers, yet the deploy applier and the ESM
engine must not care. So this class offers exactly what `LocalRuntime` offers (`start`, `stop`,
`register(FunctionSpec)`, `functions()`, `invoke(name, payload)`) and does it with
CreateFunction / UpdateFunctionCode / Invoke.

The function's environment is the spec's own, never the harness's `AWS_ENDPOINT_URL`:
LocalStack injects an endpoint its Lambda containers can reach (the harness's loopback URL would
point a container at itself), and AWS needs none.
"""

from __future__ import annotations

import hashlib
import base64
import io
import math
import os
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from harness.invoke import InvokeResult, LambdaApiInvoker
from harness.runtime.environment import check_function_environment
from harness.runtime.errors import error_type_of
from harness.runtime.spec import FunctionSpec, InvalidFunctionSpec
from harness.runtime.validation import normalize_spec

# Never shipped: bytecode and caches differ per machine and would change CodeSha256 for nothing.
_SKIP_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache"})
_SKIP_SUFFIXES = (".pyc", ".pyo")
# A fixed timestamp makes the zip (and so CodeSha256) depend only on the files' names and bytes.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class RemoteRuntimeError(RuntimeError):
    """A Lambda API call for one function failed; the message names the function and the call."""


def zip_code_dir(code_dir: Path) -> bytes:
    """The directory as a deployment package, in memory, byte-for-byte reproducible.

    Reproducible so that registering unchanged code twice uploads an identical package (same
    CodeSha256), which makes "did the code change?" answerable from the Lambda API alone.
    """
    root = Path(code_dir)
    if not root.is_dir():
        raise InvalidFunctionSpec(f"code_dir {str(root)!r} is not a directory")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            for filename in sorted(filenames):
                if filename.endswith(_SKIP_SUFFIXES):
                    continue
                path = Path(dirpath) / filename
                info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=_ZIP_EPOCH)
                info.external_attr = 0o644 << 16  # readable by Lambda's sbx_user, whatever the local mode
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def code_sha256(package: bytes) -> str:
    """What Lambda reports as CodeSha256 for a package (base64 of the SHA-256 digest)."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode("ascii")


class RemoteLambdaRuntime:
    """Functions deployed to a backend's Lambda, invoked through its Invoke API.

    `role_arn` is the default execution role, used only for a FunctionSpec without its own
    `role_arn` (functions registered by hand, tests); the deployer fills each spec from the
    template's Role, so a deployed stack keeps its per-function roles as on AWS.
    """

    def __init__(
        self,
        lambda_client: Any,
        *,
        role_arn: str,
        runtime: str = "python3.11",
        journal: Any = None,
        account_id: str | None = None,
        waiter_delay_s: int = 1,
        waiter_max_attempts: int = 120,
    ) -> None:
        if not isinstance(role_arn, str) or not role_arn.startswith("arn:"):
            raise ValueError(f"role_arn must be an IAM role ARN, got {role_arn!r}")
        if not isinstance(runtime, str) or not runtime.startswith("python3"):
            raise ValueError(f"runtime must be a python3.x Lambda runtime, got {runtime!r}")
        self.client = lambda_client
        self.role_arn = role_arn
        self.runtime = runtime
        self.region = str(getattr(getattr(lambda_client, "meta", None), "region_name", None) or "us-east-1")
        # The ARN's account: from the role unless given (LocalStack: 000000000000, moto: 123456789012).
        self.account_id = account_id or (role_arn.split(":")[4] or "000000000000")
        self._journal = journal
        self._waiter_config = {"Delay": waiter_delay_s, "MaxAttempts": waiter_max_attempts}
        self._invoker = LambdaApiInvoker(lambda_client)
        self._lock = threading.Lock()
        self._specs: dict[str, FunctionSpec] = {}

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Nothing to warm: the backend's Lambda owns the execution environments."""

    def stop(self) -> None:
        """Deletes nothing: the functions belong to the deployed stack, like every other resource."""

    def __enter__(self) -> "RemoteLambdaRuntime":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- functions -----------------------------------------------------------------------------
    def register(self, spec: FunctionSpec) -> None:
        """Create the function, or update its code and configuration if it exists; return once Active.

        Validation is the local runtime's (names, code_dir, reserved environment keys), so a bad
        spec fails before any API call, naming the function and the field.
        """
        normalized = normalize_spec(spec, region=self.region, account_id=self.account_id)
        check_function_environment(normalized)
        package = zip_code_dir(normalized.code_dir)
        # Lambda takes whole seconds; the local runtime allows fractions so its tests run fast.
        timeout = max(1, math.ceil(normalized.timeout_s))
        role = normalized.role_arn or self.role_arn
        config = {
            "Role": role,  # the template's own role; the stand-in only for specs without one
            "Handler": normalized.handler,
            "Runtime": self.runtime,
            "Timeout": timeout,
            "MemorySize": normalized.memory_mb,
            "Environment": {"Variables": dict(normalized.environment)},
        }
        if normalized.layers:
            config["Layers"] = [self._publish_layer(normalized.name, layer) for layer in normalized.layers]
        name = normalized.name
        began = time.perf_counter()
        if self._exists(name):
            action = "updated"
            self._call(name, "UpdateFunctionCode", self.client.update_function_code, FunctionName=name,
                       ZipFile=package)
            self._wait(name, "function_updated_v2")
            self._call(name, "UpdateFunctionConfiguration", self.client.update_function_configuration,
                       FunctionName=name, **config)
            self._wait(name, "function_updated_v2")
        else:
            action = "created"
            self._call(name, "CreateFunction", self.client.create_function, FunctionName=name,
                       Code={"ZipFile": package}, Publish=False, **config)
            self._wait(name, "function_active_v2")
        with self._lock:
            self._specs[name] = normalized
        if self._journal is not None:
            self._journal.record("runtime_register", function=name, remote=True, action=action,
                                 role_arn=role, default_role=normalized.role_arn is None,
                                 code_sha256=code_sha256(package), timeout_s=timeout,
                                 timeout_rounded=timeout != normalized.timeout_s,
                                 duration_ms=round((time.perf_counter() - began) * 1000, 2))

    def functions(self) -> list[FunctionSpec]:
        """Copies of the specs registered through this object (normalized: absolute code_dir, ARN)."""
        with self._lock:
            return [replace(s, environment=dict(s.environment)) for s in self._specs.values()]

    def invoke(self, function_name: str, payload: bytes) -> InvokeResult:
        """Synchronous Invoke; function errors come back in the result, not-reached errors raise
        InvokeServiceError (throttles flagged), exactly as from the local runtime.

        Not limited to registered functions: replay may target a function deployed some other way.
        `name:qualifier` (an alias or version) is sent as FunctionName plus Qualifier.
        """
        if isinstance(payload, (bytearray, memoryview)):
            payload = bytes(payload)
        if not isinstance(payload, bytes):
            raise TypeError(f"invoke({function_name!r}): payload must be bytes, got {type(payload).__name__}")
        began = time.monotonic()
        name, _, qualifier = function_name.partition(":")
        invoker = LambdaApiInvoker(self.client, qualifier=qualifier) if qualifier else self._invoker
        result = invoker.invoke(name, payload)
        if self._journal is not None:
            self._journal.record(
                "runtime_invoke",
                function=function_name,
                request_id=result.request_id,
                duration_ms=round(result.duration_ms, 3),
                function_error=result.function_error,
                error_type=None if result.function_error is None else error_type_of(result.payload),
                outcome="response" if result.function_error is None else "error",
                cold_start=None,  # the Invoke API does not say
                wall_ms=round((time.monotonic() - began) * 1000.0, 3),
                remote=True,
            )
        return result

    def publish_version(self, function_name: str) -> str:
        """PublishVersion of the function's current code; the new version number."""
        response = self._call(function_name, "PublishVersion", self.client.publish_version, FunctionName=function_name)
        return str(response["Version"])

    def register_alias(self, function_name: str, alias: str, version: str) -> None:
        """CreateAlias, or UpdateAlias when it exists already (a re-deploy moves it)."""
        try:
            self.client.create_alias(FunctionName=function_name, Name=alias, FunctionVersion=version)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceConflictException":
                raise _named(function_name, "CreateAlias", exc) from None
            self._call(function_name, "UpdateAlias", self.client.update_alias, FunctionName=function_name, Name=alias,
                       FunctionVersion=version)
        except BotoCoreError as exc:
            raise _named(function_name, "CreateAlias", exc) from None

    # ---- internals ----------------------------------------------------------------------------
    def _publish_layer(self, function_name: str, layer_dir: Path) -> str:
        """PublishLayerVersion of a layer directory, named by its content (the same code, the same
        layer name, so functions sharing a layer share it on the backend too); its version ARN."""
        package = zip_code_dir(layer_dir)
        name = "harness-layer-" + hashlib.sha256(package).hexdigest()[:16]
        response = self._call(function_name, "PublishLayerVersion", self.client.publish_layer_version,
                              LayerName=name, Content={"ZipFile": package}, CompatibleRuntimes=[self.runtime])
        return str(response["LayerVersionArn"])

    def _exists(self, name: str) -> bool:
        try:
            self.client.get_function_configuration(FunctionName=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return False
            raise _named(name, "GetFunctionConfiguration", exc) from None
        except BotoCoreError as exc:
            raise _named(name, "GetFunctionConfiguration", exc) from None
        return True

    def _call(self, name: str, operation: str, method: Any, **params: Any) -> Any:
        try:
            return method(**params)
        except (ClientError, BotoCoreError) as exc:
            raise _named(name, operation, exc) from None

    def _wait(self, name: str, waiter: str) -> None:
        try:
            self.client.get_waiter(waiter).wait(FunctionName=name, WaiterConfig=self._waiter_config)
        except WaiterError as exc:
            last = exc.last_response or {}
            state = {k: last.get(k) for k in ("State", "StateReason", "LastUpdateStatus", "LastUpdateStatusReason")
                     if last.get(k)}
            raise RemoteRuntimeError(f"function {name!r} did not become ready ({waiter}): {state or exc}") from None


def _named(name: str, operation: str, exc: Exception) -> RemoteRuntimeError:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        detail = f"{err.get('Code', '')}: {err.get('Message', '')}"
    else:
        detail = f"{type(exc).__name__}: {exc}"
    return RemoteRuntimeError(f"function {name!r}: Lambda {operation} failed: {detail}")


def ensure_lambda_role(iam_client: Any, name: str = "harness-lambda-role") -> str:
    """The ARN of a role Lambda may assume, created if missing.

    Why a stand-in role: RemoteLambdaRuntime needs a default for functions whose spec names no
    role (the deployer passes each template function's own role). CreateFunction only needs a
    role that exists and trusts lambda.amazonaws.com.
    """
    try:
        return str(iam_client.get_role(RoleName=name)["Role"]["Arn"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
            raise RemoteRuntimeError(f"IAM GetRole {name!r} failed: {exc}") from None
    trust = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
             '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
    try:
        return str(iam_client.create_role(RoleName=name, AssumeRolePolicyDocument=trust,
                                          Description="harness stand-in execution role")["Role"]["Arn"])
    except ClientError as exc:
        raise RemoteRuntimeError(f"IAM CreateRole {name!r} failed: {exc}") from None


__all__ = ["RemoteLambdaRuntime", "RemoteRuntimeError", "zip_code_dir", "code_sha256", "ensure_lambda_role"]
