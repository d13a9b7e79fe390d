"""Checks a FunctionSpec when it is registered, as Lambda's CreateFunction would.

Validation happens at registration so a typo in a deploy template fails loudly, naming the
function and the field, instead of surfacing later as a hung or mysterious invoke. It sits above
both spec.py and the language kinds because whether a Runtime is served is one of its checks.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from harness.runtime.languages import kind_for
from harness.runtime.spec import FunctionSpec, InvalidFunctionSpec

# Lambda's own limits (CreateFunction): name 1-64 of [A-Za-z0-9-_], timeout <= 900 s,
# memory 128-10240 MB. Fractional timeouts are allowed here so tests can run quickly.
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TIMEOUT_S = 900.0
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10240
# CreateFunction's own pattern for Role (the Lambda API reference), so a value this accepts is one
# a real Lambda would accept too: partition, empty region, 12-digit account, role/<path+name>.
_ROLE_ARN_RE = re.compile(r"arn:aws[a-zA-Z-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-/]+")


def normalize_spec(spec: FunctionSpec, *, region: str, account_id: str) -> FunctionSpec:
    """Check every field and return a copy with an absolute code_dir and a filled-in ARN.

    Import problems in the handler module are deliberately NOT checked here: on AWS they are
    init errors seen at invoke time (Runtime.ImportModuleError), and scenarios test exactly that.
    """
    if not isinstance(spec, FunctionSpec):
        raise InvalidFunctionSpec(f"register() needs a FunctionSpec, got {type(spec).__name__}")
    name = spec.name
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidFunctionSpec(
            f"function name {name!r} is invalid: Lambda allows 1-64 characters of letters, digits, '-' and '_'"
        )
    code_dir = Path(spec.code_dir).expanduser()
    if not code_dir.is_dir():
        raise InvalidFunctionSpec(f"function {name!r}: code_dir {str(code_dir)!r} is not a directory")
    if not isinstance(spec.handler, str) or not spec.handler.strip():
        raise InvalidFunctionSpec(f"function {name!r}: handler must be a non-empty string like 'app.handler'")
    env = spec.environment or {}
    if not isinstance(env, dict):
        raise InvalidFunctionSpec(f"function {name!r}: environment must be a dict of str to str")
    for key, value in env.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidFunctionSpec(
                f"function {name!r}: environment entry {key!r}={value!r} must map a string to a string"
            )
    try:
        timeout = float(spec.timeout_s)
    except (TypeError, ValueError):
        raise InvalidFunctionSpec(f"function {name!r}: timeout_s {spec.timeout_s!r} is not a number") from None
    if not 0 < timeout <= MAX_TIMEOUT_S:
        raise InvalidFunctionSpec(f"function {name!r}: timeout_s {timeout} must be in (0, {MAX_TIMEOUT_S:g}]")
    if not isinstance(spec.memory_mb, int) or not MIN_MEMORY_MB <= spec.memory_mb <= MAX_MEMORY_MB:
        raise InvalidFunctionSpec(
            f"function {name!r}: memory_mb {spec.memory_mb!r} must be an int in [{MIN_MEMORY_MB}, {MAX_MEMORY_MB}]"
        )
    arn = spec.arn or f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    if not isinstance(arn, str) or not arn.isascii() or any(ch in arn for ch in "\r\n"):
        # It travels in the Lambda-Runtime-Invoked-Function-Arn header.
        raise InvalidFunctionSpec(f"function {name!r}: arn {arn!r} must be a single-line ASCII string")
    check_role_arn(name, spec.role_arn)
    kind_for(spec.runtime, function=name)
    if isinstance(spec.layers, (str, Path)) or not isinstance(spec.layers, (tuple, list)):
        raise InvalidFunctionSpec(f"function {name!r}: layers must be a tuple of folders, got {spec.layers!r}")
    layers = []
    for index, layer in enumerate(spec.layers or ()):
        folder = Path(layer).expanduser()
        if not folder.is_dir():
            raise InvalidFunctionSpec(f"function {name!r}: layers[{index}] {str(folder)!r} is not a directory")
        layers.append(folder.resolve())
    return replace(spec, code_dir=code_dir.resolve(), environment=dict(env), timeout_s=timeout, arn=arn,
                   layers=tuple(layers))


def check_role_arn(function_name: str, role_arn: object) -> None:
    """None, or an IAM role ARN as CreateFunction accepts it.

    Checked here, not left to the Lambda API, so that a template whose Role resolved to something
    else (a role name, a policy ARN, an unresolved intrinsic) fails naming the function and the
    field, before any upload.
    """
    if role_arn is None:
        return
    if not isinstance(role_arn, str) or not _ROLE_ARN_RE.fullmatch(role_arn):
        raise InvalidFunctionSpec(
            f"function {function_name!r}: role_arn {role_arn!r} is not an IAM role ARN "
            "(expected arn:aws:iam::<12-digit account>:role/<name>)"
        )
