"""What a function is, for the local runtime: the fields Lambda's CreateFunction would take.

validation.py checks them when a function is registered; the language kinds read them to start it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

# The Runtime a FunctionSpec gets when its caller names none: the Python the harness itself runs
# on, which is always there, so such a function needs nothing installed.
DEFAULT_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


class InvalidFunctionSpec(ValueError):
    """A FunctionSpec field is unusable; the message names the function and the field."""


class FunctionNotFound(LookupError):
    """Invoke of a function name that was never registered with this runtime."""


@dataclass
class FunctionSpec:
    """One Lambda function as the local runtime runs it."""

    name: str
    code_dir: Path
    handler: str  # "app.handler"
    environment: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 3.0
    memory_mb: int = 128
    arn: str | None = None  # default arn:aws:lambda:<region>:<account>:function:<name>
    # The function's execution role (the template's Role). Only a runtime backed by a real Lambda
    # API uses it (RemoteLambdaRuntime); LocalRuntime ignores it on purpose: it runs the code as a
    # process on this machine with the backend's own credentials, so there is no role to assume,
    # and the embedded backend does not evaluate IAM policies anyway. None: the runtime's default.
    role_arn: str | None = None
    # The template's Runtime ("python3.12", "nodejs24.x"): which language kind runs the function
    # and on which version (harness/runtime/languages).
    runtime: str = DEFAULT_RUNTIME
    # Layer folders, in the template's order, each as Lambda extracts it under /opt (so a Python
    # layer holds python/, a Node.js layer nodejs/node_modules/).
    layers: tuple[Path, ...] = ()
