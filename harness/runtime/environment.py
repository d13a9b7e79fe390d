"""The environment a worker process starts with, built like Lambda's.

The worker does NOT inherit the harness's own environment: a developer's real AWS profile or
credentials must never leak into function code that is meant to talk to a local backend.
"""

from __future__ import annotations

import os
import secrets
import time
from typing import TYPE_CHECKING

from harness.runtime.spec import FunctionSpec, InvalidFunctionSpec

if TYPE_CHECKING:
    from harness.runtime.languages.base import Launch

# Keys Lambda refuses in a function's configuration (CreateFunction fails with
# "...contains reserved keys that are currently not supported for modification").
RESERVED_KEYS = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

# Only what a process needs to start on this machine; nothing AWS-related.
_PASSTHROUGH = ("PATH", "LD_LIBRARY_PATH", "SYSTEMROOT", "TMPDIR")


def check_function_environment(spec: FunctionSpec) -> None:
    """Reject reserved keys the way Lambda does, naming the function and the keys."""
    bad = sorted(k for k in spec.environment if k in RESERVED_KEYS)
    if bad:
        raise InvalidFunctionSpec(
            f"function {spec.name!r}: environment sets reserved key(s) {', '.join(bad)}; "
            "Lambda refuses these (pass backend settings through base_environment instead)"
        )


def log_stream_name() -> str:
    """Lambda's stream name shape: YYYY/MM/DD/[$LATEST]<32 hex>."""
    return time.strftime("%Y/%m/%d/", time.gmtime()) + "[$LATEST]" + secrets.token_hex(16)


def worker_environment(
    spec: FunctionSpec, launch: Launch, *, base_environment: dict[str, str], runtime_api: str, region: str
) -> dict[str, str]:
    """Lambda's reserved variables, then the backend's (endpoint, region, fake credentials),
    then the function's own; the variables the bootstrap depends on, and the language's own
    (PYTHONPATH / NODE_PATH, AWS_EXECUTION_ENV, LAMBDA_RUNTIME_DIR), always win."""
    env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
    env.update(
        {
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name(),
        }
    )
    env.update(base_environment)
    env.update(spec.environment)
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }
    )
    env.update(launch.environment)
    # aws-lambda-ric 4.x switches to its multi-concurrency mode when this is set at all.
    env.pop("AWS_LAMBDA_MAX_CONCURRENCY", None)
    return env

