"""What the function sees (context, environment) and what the harness sees of its logs."""

from __future__ import annotations

import json
import re

from harness.runtime import FunctionSpec, LocalRuntime


def test_context_object_looks_like_aws(code_dir, journal) -> None:
    rt = LocalRuntime(
        journal=journal, region="eu-west-1", account_id="111122223333",
        base_environment={"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_REGION": "eu-west-1"},
    )
    with rt:
        rt.register(FunctionSpec("ctx-fn", code_dir, "app.ctx", environment={"MY_SETTING": "x"}, timeout_s=5, memory_mb=256))
        result = rt.invoke("ctx-fn", b"{}")
    assert result.function_error is None, result.payload
    c = json.loads(result.payload)
    assert c["function_name"] == "ctx-fn"
    assert c["function_version"] == "$LATEST"
    assert c["memory_limit_in_mb"] == "256"
    assert c["invoked_function_arn"] == "arn:aws:lambda:eu-west-1:111122223333:function:ctx-fn"
    assert c["aws_request_id"] == result.request_id
    assert 4000 < c["remaining_ms"] <= 5000
    assert c["log_group_name"] == "/aws/lambda/ctx-fn"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", c["log_stream_name"])
    assert c["trace"].startswith("Root=1-")
    env = c["env"]
    assert env["AWS_REGION"] == "eu-west-1"
    assert env["LAMBDA_TASK_ROOT"] == str(code_dir.resolve()) == c["cwd"]
    assert env["_HANDLER"] == "app.ctx"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert env["MY_SETTING"] == "x"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "ctx-fn"


def test_harness_environment_does_not_leak_into_the_function(code_dir, monkeypatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "someones-real-account")
    with LocalRuntime() as rt:
        rt.register(FunctionSpec("ctx", code_dir, "app.ctx"))
        env = json.loads(rt.invoke("ctx", b"{}").payload)["env"]
    assert env["AWS_PROFILE"] is None


def test_logs_are_attributed_to_the_invocation_that_wrote_them(runtime: LocalRuntime, code_dir, journal) -> None:
    runtime.register(FunctionSpec("chatty", code_dir, "app.chatty"))
    results = [runtime.invoke("chatty", json.dumps({"n": n}).encode()) for n in range(5)]
    for n, result in enumerate(results):
        lines = [e["line"] for e in journal.entries("function_log", function="chatty", request_id=result.request_id)]
        assert f"line one {n}" in lines
        assert f"to stderr {n}" in lines
        assert any(line.startswith("[WARNING]") and result.request_id in line and f"via logging {n}" in line for line in lines)
        # Nothing from another invocation leaked in.
        assert not any(f" {m}" in line for line in lines for m in range(5) if m != n and "one" in line)
        tail = result.log_tail
        assert tail.startswith(f"START RequestId: {result.request_id} Version: $LATEST")
        assert f"line one {n}\n" in tail
        assert f"END RequestId: {result.request_id}" in tail
        assert re.search(rf"REPORT RequestId: {result.request_id}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB", tail)


def test_log_tail_is_capped_at_4kb(runtime: LocalRuntime, write_dir) -> None:
    d = write_dir("loud", {"app.py": "def handler(e, c):\n    for i in range(500):\n        print('x' * 50, i)\n    return 1\n"})
    runtime.register(FunctionSpec("loud", d, "app.handler"))
    result = runtime.invoke("loud", b"{}")
    assert len(result.log_tail.encode()) <= 4096
    assert "x" * 50 + " 499" in result.log_tail
    assert result.log_tail.rstrip("\n").split("\n")[-1].startswith("REPORT RequestId:")


def test_runtime_invoke_is_journaled(runtime: LocalRuntime, code_dir, journal) -> None:
    runtime.register(FunctionSpec("boom", code_dir, "app.boom"))
    result = runtime.invoke("boom", b'{"id": 1}')
    [entry] = journal.entries("runtime_invoke", request_id=result.request_id)
    assert entry["function"] == "boom"
    assert entry["function_error"] == "Unhandled"
    assert entry["error_type"] == "ValueError"
    assert entry["duration_ms"] >= 0
