"""Each way an invoke can end, with the payload shape AWS Lambda gives it (spec section 1:
"A function error includes an unhandled exception or a timeout")."""

from __future__ import annotations

import json
import time

from harness.runtime import FunctionSpec, LocalRuntime


def test_success_returns_the_handler_result_as_json(runtime: LocalRuntime, code_dir) -> None:
    runtime.register(FunctionSpec("ok", code_dir, "app.ok"))
    result = runtime.invoke("ok", b'{"id": 7}')
    assert result.status_code == 200
    assert result.function_error is None
    assert json.loads(result.payload) == {"echo": {"id": 7}, "ok": True}
    assert len(result.request_id) == 36
    assert result.executed_version == "$LATEST"


def test_exception_is_unhandled_with_awslambdaric_error_document(runtime: LocalRuntime, code_dir) -> None:
    runtime.register(FunctionSpec("boom", code_dir, "app.boom"))
    result = runtime.invoke("boom", b'{"id": 3}')
    assert result.status_code == 200
    assert result.function_error == "Unhandled"
    doc = json.loads(result.payload)
    assert doc["errorType"] == "ValueError"
    assert doc["errorMessage"] == "bad record 3"
    assert doc["requestId"] == result.request_id
    assert any("in boom" in frame for frame in doc["stackTrace"])
    # The worker survives a handled exception: the next invoke is served warm.
    again = runtime.invoke("boom", b'{"id": 4}')
    assert json.loads(again.payload)["errorMessage"] == "bad record 4"


def test_timeout_returns_after_the_timeout_and_the_next_invoke_works(runtime: LocalRuntime, code_dir) -> None:
    runtime.register(FunctionSpec("slow", code_dir, "app.pid", timeout_s=1))
    first_pid = json.loads(runtime.invoke("slow", b"{}").payload)  # warm it, and learn its process
    began = time.monotonic()
    result = runtime.invoke("slow", b'{"sleep": 30}')
    elapsed = time.monotonic() - began
    assert 0.95 <= elapsed < 1.6, elapsed
    assert result.function_error == "Unhandled"
    doc = json.loads(result.payload)
    assert doc["errorType"] == "Sandbox.Timedout"
    assert doc["errorMessage"].endswith(f"{result.request_id} Task timed out after 1.00 seconds")
    assert "Task timed out after 1.00 seconds" in result.log_tail
    assert "Status: timeout" in result.log_tail
    assert result.duration_ms == 1000.0
    after = runtime.invoke("slow", b"{}")
    assert after.function_error is None
    assert json.loads(after.payload) != first_pid  # the timed-out process was replaced


def test_crash_mid_invoke_is_runtime_exit_error_and_worker_is_replaced(runtime: LocalRuntime, code_dir, journal) -> None:
    runtime.register(FunctionSpec("crash", code_dir, "app.crash"))
    result = runtime.invoke("crash", b"{}")
    assert result.function_error == "Unhandled"
    doc = json.loads(result.payload)
    assert doc == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: exit status 1",
    }
    assert "about to crash" in result.log_tail  # printed right before os._exit: still attributed
    # Replaced: the next invoke reaches a fresh process (and crashes it again, the same way).
    again = runtime.invoke("crash", b"{}")
    assert json.loads(again.payload)["errorType"] == "Runtime.ExitError"
    exits = journal.entries("runtime_worker_exit", function="crash", expected=False)
    assert len(exits) == 2


def test_segfault_is_reported_with_go_style_signal_text(runtime: LocalRuntime, code_dir) -> None:
    runtime.register(FunctionSpec("segv", code_dir, "app.segv"))
    result = runtime.invoke("segv", b"{}")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorMessage"].endswith("Runtime exited with error: signal: segmentation fault")


def test_missing_handler_module_is_an_import_error_on_every_invoke(runtime: LocalRuntime, write_dir) -> None:
    d = write_dir("empty", {"other.py": "X = 1\n"})
    runtime.register(FunctionSpec("nomod", d, "missing_mod.handler"))
    for _ in range(2):
        began = time.monotonic()
        result = runtime.invoke("nomod", b"{}")
        assert time.monotonic() - began < 5
        assert result.function_error == "Unhandled"
        doc = json.loads(result.payload)
        assert doc["errorType"] == "Runtime.ImportModuleError"
        assert "missing_mod" in doc["errorMessage"]


def test_syntax_error_and_missing_handler_function(runtime: LocalRuntime, write_dir) -> None:
    d = write_dir("broken", {"bad.py": "def handler(:\n", "good.py": "def other(e, c):\n    return 1\n"})
    runtime.register(FunctionSpec("syntax", d, "bad.handler"))
    runtime.register(FunctionSpec("nofunc", d, "good.handler"))
    syntax = json.loads(runtime.invoke("syntax", b"{}").payload)
    assert syntax["errorType"] == "Runtime.UserCodeSyntaxError"
    assert "bad" in syntax["errorMessage"]
    nofunc = json.loads(runtime.invoke("nofunc", b"{}").payload)
    assert nofunc["errorType"] == "Runtime.HandlerNotFound"


def test_import_time_exception_is_an_init_error(runtime: LocalRuntime, write_dir) -> None:
    d = write_dir("initboom", {"app.py": "raise RuntimeError('no config')\ndef handler(e, c):\n    return 1\n"})
    runtime.register(FunctionSpec("initboom", d, "app.handler"))
    result = runtime.invoke("initboom", b"{}")
    assert result.function_error == "Unhandled"
    doc = json.loads(result.payload)
    assert doc["errorType"] == "RuntimeError" and doc["errorMessage"] == "no config"


def test_exit_during_import_without_init_error_is_exit_error(runtime: LocalRuntime, write_dir) -> None:
    d = write_dir("initexit", {"app.py": "import os\nos._exit(3)\n"})
    runtime.register(FunctionSpec("initexit", d, "app.handler"))
    result = runtime.invoke("initexit", b"{}")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorMessage"].endswith("exit status 3")


def test_handler_module_that_never_finishes_importing_fails_at_the_init_limit(
    runtime: LocalRuntime, write_dir, monkeypatch
) -> None:
    from harness.runtime import pool

    monkeypatch.setattr(pool, "INIT_TIMEOUT_S", 0.5)
    d = write_dir("hang", {"app.py": "import time\ntime.sleep(60)\ndef handler(e, c):\n    return 1\n"})
    runtime.register(FunctionSpec("hang", d, "app.handler", timeout_s=30))
    began = time.monotonic()
    result = runtime.invoke("hang", b"{}")
    assert time.monotonic() - began < 2
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorType"] == "Sandbox.Timedout"


def test_large_payloads_cross_both_ways(runtime: LocalRuntime, code_dir) -> None:
    runtime.register(FunctionSpec("ok", code_dir, "app.ok", timeout_s=10))
    blob = "x" * (5 * 1024 * 1024)
    result = runtime.invoke("ok", json.dumps({"blob": blob}).encode())
    assert result.function_error is None
    assert json.loads(result.payload)["echo"]["blob"] == blob
