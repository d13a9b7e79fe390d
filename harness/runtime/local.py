"""LocalRuntime: run registered functions in warm runtime processes (awslambdaric for Python,
aws-lambda-ric for Node.js), like Lambda would.

It satisfies harness.invoke.Invoker, so the ESM engine, S3 notifications and replay can use it
or the real Lambda Invoke API interchangeably.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from dataclasses import replace
from typing import Any

from harness.invoke import InvokeResult
from harness.runtime import languages
from harness.runtime.environment import check_function_environment
from harness.runtime.pool import FunctionPool
from harness.runtime.spec import FunctionNotFound, FunctionSpec, InvalidFunctionSpec
from harness.runtime.validation import normalize_spec
from harness.runtime.worker import LIVE_WORKERS

_RUNTIMES: "weakref.WeakSet[LocalRuntime]" = weakref.WeakSet()


class RuntimeNotStarted(RuntimeError):
    """invoke() before start(): no worker may run outside a start()/stop() bracket."""


class LocalRuntime:
    """Lambda Runtime API + warm worker processes for every registered function."""

    def __init__(
        self,
        *,
        base_environment: dict[str, str] | None = None,
        journal: Any = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        max_workers: int = 2,
    ) -> None:
        if not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError(f"max_workers must be an int >= 1, got {max_workers!r}")
        env = dict(base_environment or {})
        for key, value in env.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"base_environment entry {key!r}={value!r} must map a string to a string")
        self._base_env = env
        self._journal = journal
        self.region = region
        self.account_id = account_id
        self.max_workers = max_workers
        self._lock = threading.Lock()
        self._pools: dict[str, FunctionPool] = {}
        # Published versions per function, and (function, alias) -> version. A version runs the
        # function's registered code: the local runtime keeps one code per function, so a
        # function registered again after publishing runs its new code under old version numbers.
        self._versions: dict[str, list[str]] = {}
        self._aliases: dict[tuple[str, str], str] = {}
        self._started = False

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Begin serving: one warm worker per registered function starts initialising now."""
        with self._lock:
            if self._started:
                return
            self._started = True
            pools = list(self._pools.values())
        _RUNTIMES.add(self)
        for pool in pools:
            pool.warm()

    def stop(self) -> None:
        """Kill every worker process group and wait for them; invokes in flight raise InvokeServiceError."""
        with self._lock:
            self._started = False
            pools = list(self._pools.values())
        for pool in pools:
            pool.close()
        # Re-arm the pools so that a later start() serves the same functions again.
        with self._lock:
            for name, pool in list(self._pools.items()):
                self._pools[name] = self._new_pool(pool.spec, pool.launch)

    def __enter__(self) -> "LocalRuntime":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- functions -----------------------------------------------------------------------------
    def _new_pool(self, spec: FunctionSpec, launch: languages.Launch) -> FunctionPool:
        return FunctionPool(
            spec, launch, base_environment=self._base_env, region=self.region,
            journal=self._journal, max_workers=self.max_workers,
        )

    def register(self, spec: FunctionSpec) -> None:
        """Add or replace a function; replacing retires the old workers after their current invoke.

        The language kind picks the executable now (installing it once into the cache if needed)
        and journals `runtime_selected`, so a missing tool fails here, naming the function.
        """
        normalized = normalize_spec(spec, region=self.region, account_id=self.account_id)
        check_function_environment(normalized)
        launch = languages.prepare(normalized, journal=self._journal)
        pool = self._new_pool(normalized, launch)
        with self._lock:
            old = self._pools.get(normalized.name)
            self._pools[normalized.name] = pool
            started = self._started
        if old is not None:
            old.retire()
        if started:
            pool.warm()

    def functions(self) -> list[FunctionSpec]:
        """Copies of the registered specs (normalized: absolute code_dir, ARN filled in)."""
        with self._lock:
            return [replace(pool.spec, environment=dict(pool.spec.environment)) for pool in self._pools.values()]

    def publish_version(self, function_name: str) -> str:
        """PublishVersion: the next version number ("1", "2"...) of a registered function."""
        with self._lock:
            if function_name not in self._pools:
                raise FunctionNotFound(f"publish_version: function {function_name!r} is not registered")
            versions = self._versions.setdefault(function_name, [])
            versions.append(str(len(versions) + 1))
            return versions[-1]

    def register_alias(self, function_name: str, alias: str, version: str) -> None:
        """CreateAlias (or move it): `function:alias` invokes `version` ("$LATEST" or a published one)."""
        with self._lock:
            if function_name not in self._pools:
                raise FunctionNotFound(f"register_alias: function {function_name!r} is not registered")
            if version != "$LATEST" and version not in self._versions.get(function_name, []):
                raise InvalidFunctionSpec(f"function {function_name!r}: alias {alias!r} points at version "
                                          f"{version!r}, which was never published")
            if alias.isdigit() or alias == "$LATEST" or not alias:
                raise InvalidFunctionSpec(f"function {function_name!r}: {alias!r} is not a valid alias name")
            self._aliases[(function_name, alias)] = version

    def _version(self, function_name: str, qualifier: str) -> str:
        """The version an invoke of `function:qualifier` runs; FunctionNotFound for an unknown qualifier."""
        if not qualifier or qualifier == "$LATEST":
            return "$LATEST"
        if qualifier in self._versions.get(function_name, []):
            return qualifier
        if (function_name, qualifier) in self._aliases:
            return self._aliases[(function_name, qualifier)]
        raise FunctionNotFound(f"function {function_name!r} has no version or alias {qualifier!r}")

    def invoke(self, function_name: str, payload: bytes) -> InvokeResult:
        """Synchronous invoke (RequestResponse); function errors come back in the result, not raised.

        `name:qualifier` invokes an alias or version; the result's executed_version says which ran."""
        if isinstance(payload, (bytearray, memoryview)):
            payload = bytes(payload)
        if not isinstance(payload, bytes):
            raise TypeError(f"invoke({function_name!r}): payload must be bytes, got {type(payload).__name__}")
        name, _, qualifier = function_name.partition(":")
        with self._lock:
            pool = self._pools.get(name)
            started = self._started
            registered = sorted(self._pools)
            version = self._version(name, qualifier) if pool is not None else "$LATEST"
        if pool is None:
            raise FunctionNotFound(
                f"function {function_name!r} is not registered with the local runtime; "
                f"registered: {', '.join(registered) if registered else '(none)'}"
            )
        if not started:
            raise RuntimeNotStarted(
                f"invoke({function_name!r}) on a stopped LocalRuntime: call start() or use it as a context manager"
            )
        result = pool.invoke(payload)
        return result if version == "$LATEST" else replace(result, executed_version=version)


def _stop_everything() -> None:
    """atexit safety net: no orphaned runtime processes even if a caller never called stop()."""
    for runtime in list(_RUNTIMES):
        try:
            runtime.stop()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass
    for worker in list(LIVE_WORKERS):
        worker.kill()


atexit.register(_stop_everything)

__all__ = ["LocalRuntime", "RuntimeNotStarted", "FunctionSpec", "FunctionNotFound", "InvalidFunctionSpec"]
