"""Carrying out an injected fault (harness.fault_rules.Action) around the function's own handler.

The decision (which invocation, which records, `times`) is made once, in the parent process, by
the rules; this module only does what the action says, the same way for every language, so the
worker processes and the function's code are untouched:

- error: the invocation fails unhandled, with the language runtime's error document and log line;
- timeout: it runs past the function's Timeout ("Task timed out"); the environment is reset, so
  the next invoke is a cold start. `wait` False (virtual clock): reported without waiting;
- crash: the runtime process exits (Runtime.ExitError); the next invoke is a cold start;
- throttle: Invoke answers TooManyRequestsException: the function is not reached (spec 1);
- latency: `latency_ms` pass before the handler, counted against its Timeout;
- partial: the selected records are reported in batchItemFailures and the handler runs over the
  others only (not at all when none are left);
- after_handler: the handler runs over the whole event first (its side effects happen); a
  successful answer is then replaced by the fault's (partial: merged with the handler's own).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

from harness.fault_rules import INJECTED_ERROR_TYPE, Action, merge_failures, times_out
from harness.invoke import InvokeResult, InvokeServiceError
from harness.runtime.errors import exit_error, injected_error, timeout_error, timeout_message
from harness.runtime.pool import FunctionPool

THROTTLE_MESSAGE = "TooManyRequestsException: Rate Exceeded. (injected throttle)"
CRASH_RETURNCODE = 1  # what os._exit(1) / process.exit(1) in a handler gives


def _rid() -> str:
    import uuid

    return str(uuid.uuid4())


def apply(pool: FunctionPool, payload: bytes, action: Action) -> InvokeResult:
    """Invoke `pool`'s function under `action`; raises InvokeServiceError for a throttle."""
    kind = action.kind
    if kind == "throttle":
        raise InvokeServiceError(f"Invoke {pool.spec.name}: {THROTTLE_MESSAGE}", throttled=True)
    if action.after_handler:
        return _after(pool, payload, action)
    timeout_s = pool.spec.timeout_s
    if kind == "error":
        return _error(pool, action, duration_ms=1.0)
    if kind == "timeout":
        return _timeout(pool, action, waited_s=0.0)
    if kind == "crash":
        return _crash(pool, duration_ms=1.0)
    if kind == "latency":
        delay = action.latency_ms / 1000.0
        if times_out(action.latency_ms, timeout_s):
            return _timeout(pool, action, waited_s=0.0)
        if action.wait:
            time.sleep(delay)
        result = pool.invoke(payload, timeout_s=timeout_s - delay)
        return _with_duration(result, min(result.duration_ms + action.latency_ms, timeout_s * 1000.0))
    if kind == "partial":
        return _partial(pool, payload, action)
    raise ValueError(f"unknown fault action {kind!r}")


def _after(pool: FunctionPool, payload: bytes, action: Action) -> InvokeResult:
    result = pool.invoke(payload)
    if result.function_error is not None:
        return result  # the handler failed on its own before the fault's turn: its error stands
    kind = action.kind
    if kind == "error":
        return _error(pool, action, duration_ms=result.duration_ms, request_id=result.request_id)
    if kind == "timeout":
        return _timeout(pool, action, waited_s=result.duration_ms / 1000.0, request_id=result.request_id)
    if kind == "crash":
        return _crash(pool, duration_ms=result.duration_ms, request_id=result.request_id)
    if kind == "latency":
        total_ms = result.duration_ms + action.latency_ms
        if times_out(action.latency_ms, pool.spec.timeout_s, result.duration_ms):
            return _timeout(pool, action, waited_s=result.duration_ms / 1000.0, request_id=result.request_id)
        if action.wait:
            time.sleep(action.latency_ms / 1000.0)
        return _with_duration(result, total_ms)
    if kind == "partial":
        return _merge_failures(result, action.identifiers)
    raise ValueError(f"unknown fault action {kind!r}")


def _with_duration(result: InvokeResult, duration_ms: float) -> InvokeResult:
    return replace(result, duration_ms=duration_ms)


def _error(pool: FunctionPool, action: Action, *, duration_ms: float, request_id: str | None = None) -> InvokeResult:
    rid = request_id or _rid()
    doc, line = injected_error(pool.launch.language, rid, action.message, INJECTED_ERROR_TYPE)
    return pool.injected_result(payload=doc, function_error="Unhandled", duration_ms=duration_ms, lines=[line],
                                request_id=rid)


def _timeout(pool: FunctionPool, action: Action, *, waited_s: float, request_id: str | None = None) -> InvokeResult:
    rid = request_id or _rid()
    timeout_s = pool.spec.timeout_s
    if action.wait and timeout_s > waited_s:
        time.sleep(timeout_s - waited_s)
    pool.recycle()
    return pool.injected_result(payload=timeout_error(rid, timeout_s), function_error="Unhandled",
                                duration_ms=timeout_s * 1000.0, lines=[timeout_message(rid, timeout_s)],
                                request_id=rid, status="timeout")


def _crash(pool: FunctionPool, *, duration_ms: float, request_id: str | None = None) -> InvokeResult:
    rid = request_id or _rid()
    pool.recycle()
    payload = exit_error(rid, CRASH_RETURNCODE)
    return pool.injected_result(payload=payload, function_error="Unhandled", duration_ms=duration_ms, lines=[],
                                request_id=rid, status="error\tError Type: Runtime.ExitError")


def _partial(pool: FunctionPool, payload: bytes, action: Action) -> InvokeResult:
    event = json.loads(payload)
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        return _merge_failures(pool.invoke(payload), action.identifiers)
    drop = set(action.positions)
    rest = [r for p, r in enumerate(records) if p not in drop]
    if not rest and "state" not in event:
        body = json.dumps({"batchItemFailures": [{"itemIdentifier": i} for i in action.identifiers]}).encode()
        return pool.injected_result(payload=body, function_error=None, duration_ms=1.0, lines=[], request_id=_rid())
    result = pool.invoke(json.dumps({**event, "Records": rest}).encode())
    return _merge_failures(result, action.identifiers)


def _merge_failures(result: InvokeResult, identifiers: tuple[str, ...]) -> InvokeResult:
    if result.function_error is not None:
        return result
    return replace(result, payload=merge_failures(result.payload, identifiers))
