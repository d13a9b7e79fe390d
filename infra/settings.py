"""CDK context -> validated pipeline settings.

Pure Python (no aws_cdk import) so the rules can be tested in milliseconds and so a bad value
fails before any resource is built, with a message naming the context key. Values arrive as
JSON types from CDK_CONTEXT_JSON / cdk.json, or as strings from `cdk -c key=value`; both are
accepted. Ranges follow the Lambda API for stream event source mappings (spec §1, §7.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")


class ContextError(ValueError):
    """A CDK context value is invalid; the message names the key, the value and what is allowed."""


@dataclass(frozen=True)
class PipelineSettings:
    """The tunable parts of the stack. Defaults are documented in infra/README.md."""

    stack_name: str = "ResiliencePipeline"
    batch_size: int = 10
    # Bounded by default: the AWS default (-1, infinite) blocks a shard on one poison record until
    # it ages out. -1 is accepted (the API's and CDK's range) so that behaviour can be exercised.
    retry_attempts: int = 2
    bisect: bool = True
    max_record_age_seconds: int = 3600
    report_batch_item_failures: bool = False
    parallelization_factor: int = 1
    iterator_age_alarm_ms: int = 60_000
    # The failure handler's optional automatic replay into the consumer (off by default).
    auto_replay: bool = False
    auto_replay_max_attempts: int = 2
    auto_replay_delay_seconds: int = 5

    def __post_init__(self) -> None:
        # The attempts run inside one failure-handler invocation (timeout 60 s): keep 10 s for the work.
        if self.auto_replay and self.auto_replay_max_attempts * self.auto_replay_delay_seconds > 50:
            raise ContextError(
                "invalid CDK context: autoReplayMaxAttempts x autoReplayDelaySeconds must be at most 50 seconds "
                f"(the failure handler's 60 s timeout), got {self.auto_replay_max_attempts} x "
                f"{self.auto_replay_delay_seconds}")


# context key -> (field, parser)
def _int_in(lo: int, hi: int, extra: tuple[int, ...] = ()) -> Callable[[str, Any], int]:
    def parse(key: str, value: Any) -> int:
        if isinstance(value, bool):
            raise ContextError(f"context {key!r}: must be an integer, got boolean {value!r}")
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value.strip())
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise ContextError(f"context {key!r}: must be an integer, got {value!r}")
        if value in extra or lo <= value <= hi:
            return value
        allowed = " or ".join([str(e) for e in extra] + [f"{lo}..{hi}"])
        raise ContextError(f"context {key!r}: must be {allowed}, got {value}")

    return parse


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ContextError(f"context {key!r}: must be true or false, got {value!r}")


def _stack_name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not STACK_NAME.match(value):
        raise ContextError(
            f"context {key!r}: must be a CloudFormation stack name (a letter, then letters, digits or '-', "
            f"at most 128 characters), got {value!r}"
        )
    return value


CONTEXT_KEYS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "stackName": ("stack_name", _stack_name),
    "batchSize": ("batch_size", _int_in(1, 10000)),
    # -1 (infinite) is legal for the API (spec 1) and for CDK; it is not the default because it
    # defeats the point of an on-failure destination, but the unbounded-retries scenario needs it.
    "retryAttempts": ("retry_attempts", _int_in(0, 10000, extra=(-1,))),
    "bisect": ("bisect", _bool),
    # The API also allows -1 (forever); CDK's maxRecordAge cannot express it, so it is not offered.
    "maxRecordAgeSeconds": ("max_record_age_seconds", _int_in(60, 604800)),
    "reportBatchItemFailures": ("report_batch_item_failures", _bool),
    "parallelizationFactor": ("parallelization_factor", _int_in(1, 10)),
    "iteratorAgeAlarmMs": ("iterator_age_alarm_ms", _int_in(1, 604_800_000)),
    "autoReplay": ("auto_replay", _bool),
    "autoReplayMaxAttempts": ("auto_replay_max_attempts", _int_in(1, 10)),
    "autoReplayDelaySeconds": ("auto_replay_delay_seconds", _int_in(0, 300)),
}


def settings_from_context(get: Callable[[str], Any] | Mapping[str, Any]) -> PipelineSettings:
    """Build settings from a context lookup (`app.node.try_get_context` or a dict); None means default."""
    lookup = get.get if isinstance(get, Mapping) else get
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, (field, parse) in CONTEXT_KEYS.items():
        raw = lookup(key)
        if raw is None:
            continue
        try:
            values[field] = parse(key, raw)
        except ContextError as exc:
            problems.append(str(exc))
    if problems:
        raise ContextError("invalid CDK context: " + "; ".join(problems))
    return PipelineSettings(**values)
