"""FunctionSpec.role_arn: validated like CreateFunction's Role, carried through normalization, and
ignored by the local runtime (it runs code as a local process with the backend's credentials)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.runtime import FunctionSpec, InvalidFunctionSpec, LocalRuntime
from harness.runtime.validation import normalize_spec

ROLE = "arn:aws:iam::123456789012:role/Stack-ConsumerServiceRole-ABCDEF"


@pytest.mark.parametrize("role", [
    ROLE,
    "arn:aws:iam::000000000000:role/service-role/with-path",  # LocalStack's account, a role path
    "arn:aws-cn:iam::123456789012:role/china",
    "arn:aws-us-gov:iam::123456789012:role/gov+name=x,y.z@w",
])
def test_a_role_arn_is_kept_by_normalization(code_dir: Path, role: str) -> None:
    spec = normalize_spec(FunctionSpec("fn", code_dir, "app.ok", role_arn=role), region="us-east-1",
                          account_id="123456789012")
    assert spec.role_arn == role


def test_no_role_is_none_after_normalization(code_dir: Path) -> None:
    spec = normalize_spec(FunctionSpec("fn", code_dir, "app.ok"), region="us-east-1", account_id="123456789012")
    assert spec.role_arn is None


@pytest.mark.parametrize("role", [
    "harness-lambda-role",                              # a role name, not its ARN
    "arn:aws:iam::123456789012:policy/ManagedPolicy",   # an ARN, of a policy
    "arn:aws:iam::1:role/r",                            # account not 12 digits
    "arn:aws:iam:us-east-1:123456789012:role/r",        # IAM ARNs have no region
    f"{ROLE}\n",                                        # would split a header or a log line
    "",
    {"Fn::GetAtt": ["Role", "Arn"]},                    # an intrinsic that never got resolved
])
def test_a_bad_role_names_the_function_and_the_field(code_dir: Path, role: object) -> None:
    rt = LocalRuntime()
    with pytest.raises(InvalidFunctionSpec, match=r"function 'fn': role_arn .* is not an IAM role ARN"):
        rt.register(FunctionSpec("fn", code_dir, "app.ok", role_arn=role))  # type: ignore[arg-type]
    assert rt.functions() == []


def test_local_runtime_runs_the_code_without_the_role(runtime: LocalRuntime, write_dir) -> None:
    """The role is not applied locally: nothing of it reaches the worker's environment."""
    code = write_dir("envdump", {"app.py": """
        import json, os
        def handler(event, context):
            return dict(os.environ)
    """})
    runtime.register(FunctionSpec("with-role", code, "app.handler", role_arn=ROLE))
    result = runtime.invoke("with-role", b"{}")
    assert result.function_error is None
    env = json.loads(result.payload)
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "with-role"  # it did run, in a configured worker
    assert not [k for k, v in env.items() if "ConsumerServiceRole" in v]
    assert runtime.functions()[0].role_arn == ROLE  # kept on the spec, for whoever lists it
