"""Optional automatic replay of a failure record's payload into the consumer.

Why: some poison records are transient (a dependency was down, a hot fix is deploying). With the
policy on, the failure handler waits, re-invokes the consumer with the original batch (the same
{"Records": [...]} event shape the ESM sent), and tries at most N times before giving up with an
alert. Off by default: replaying a truly bad record N more times only delays the alert.

Configuration (environment):
- AUTO_REPLAY: "off" (default) or "consumer".
- AUTO_REPLAY_FUNCTION: the consumer's function name or ARN (required when on).
- AUTO_REPLAY_MAX_ATTEMPTS (default 2, 1..10): invokes before giving up.
- AUTO_REPLAY_DELAY_SECONDS (default 5, 0..300): wait before each attempt.
The attempts run inside this invocation, so the function's timeout must cover
attempts x (delay + the consumer's duration); a config that cannot fit is refused at start.
The object is tagged `harness-auto-replay=succeeded|exhausted` (existing tags kept), so
`harness failures list` and people can see what happened; nothing is deleted.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any, Callable


class AutoReplayConfigError(RuntimeError):
    """The AUTO_REPLAY_* environment is wrong; the message names the variable."""


@dataclass(frozen=True)
class AutoReplayPolicy:
    function: str
    max_attempts: int
    delay_s: float


def policy_from_env(env: dict[str, str] | None = None) -> AutoReplayPolicy | None:
    env = dict(os.environ) if env is None else env
    mode = env.get("AUTO_REPLAY", "off").strip().lower() or "off"
    if mode == "off":
        return None
    if mode != "consumer":
        raise AutoReplayConfigError(f"AUTO_REPLAY must be 'off' or 'consumer', got {mode!r}")
    function = env.get("AUTO_REPLAY_FUNCTION", "").strip()
    if not function:
        raise AutoReplayConfigError("AUTO_REPLAY=consumer needs AUTO_REPLAY_FUNCTION (the consumer's name or ARN)")
    attempts = _number(env, "AUTO_REPLAY_MAX_ATTEMPTS", "2", int, 1, 10)
    delay = _number(env, "AUTO_REPLAY_DELAY_SECONDS", "5", float, 0, 300)
    return AutoReplayPolicy(function, int(attempts), float(delay))


def _number(env: dict[str, str], name: str, default: str, kind: Callable[[str], Any], lo: float, hi: float) -> Any:
    raw = env.get(name, default).strip() or default
    try:
        value = kind(raw)
    except ValueError:
        raise AutoReplayConfigError(f"{name} must be a number from {lo} to {hi}, got {raw!r}") from None
    if not lo <= value <= hi:
        raise AutoReplayConfigError(f"{name} must be from {lo} to {hi}, got {raw!r}")
    return value


def check_fits(policy: AutoReplayPolicy, remaining_ms: int | None) -> None:
    """Refuse a policy whose waits alone outlast this invocation: it would time out mid-replay."""
    if remaining_ms is not None and policy.max_attempts * policy.delay_s * 1000 >= remaining_ms:
        raise AutoReplayConfigError(
            f"AUTO_REPLAY_MAX_ATTEMPTS x AUTO_REPLAY_DELAY_SECONDS = {policy.max_attempts * policy.delay_s:g}s "
            f"does not fit in the function's remaining {remaining_ms / 1000:g}s; lower them or raise the timeout")


def replay(policy: AutoReplayPolicy, records: list[Any], lambda_client: Any,
           sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Invoke the consumer with the original batch until it succeeds or attempts run out.

    Success means no function error and no `batchItemFailures` reported (spec 2.3: an empty or
    null list is success); anything else is a failed attempt, described in `attempts`.
    """
    attempts: list[str] = []
    payload = json.dumps({"Records": records}).encode()
    for attempt in range(1, policy.max_attempts + 1):
        sleep(policy.delay_s)
        try:
            resp = lambda_client.invoke(FunctionName=policy.function, InvocationType="RequestResponse",
                                        Payload=payload)
        except Exception as exc:  # the consumer was not reached: a failed attempt, described
            attempts.append(f"attempt {attempt}: not invoked: {type(exc).__name__}: {exc}")
            continue
        body = resp["Payload"].read() if hasattr(resp.get("Payload"), "read") else b""
        if resp.get("FunctionError"):
            attempts.append(f"attempt {attempt}: {resp['FunctionError']}: {body[:300].decode('utf-8', 'replace')}")
            continue
        failures = _reported_failures(body)
        if failures:
            attempts.append(f"attempt {attempt}: consumer reported batchItemFailures {failures}")
            continue
        return {"outcome": "succeeded", "attempts": attempt, "history": attempts}
    return {"outcome": "exhausted", "attempts": policy.max_attempts, "history": attempts}


def _reported_failures(body: bytes) -> list[Any]:
    try:
        response = json.loads(body) if body else None
    except ValueError:
        return []
    if isinstance(response, dict) and isinstance(response.get("batchItemFailures"), list):
        return [f.get("itemIdentifier") if isinstance(f, dict) else f for f in response["batchItemFailures"]]
    return []
