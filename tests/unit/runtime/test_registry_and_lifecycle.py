"""Registration, lookup errors, concurrency, re-registration and clean shutdown."""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.invoke import InvokeServiceError
from harness.runtime import FunctionNotFound, FunctionSpec, InvalidFunctionSpec, LocalRuntime, RuntimeNotStarted


def test_unknown_function_names_it_and_the_registered_ones(runtime: LocalRuntime, code_dir) -> None:
    runtime.register(FunctionSpec("alpha", code_dir, "app.ok"))
    with pytest.raises(FunctionNotFound, match=r"'nope'.*registered: alpha") as info:
        runtime.invoke("nope", b"{}")
    assert isinstance(info.value, LookupError)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"name": "bad name!"}, "function name 'bad name!'"),
        ({"code_dir": "/does/not/exist"}, "code_dir '/does/not/exist'"),
        ({"handler": ""}, "handler"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"memory_mb": 64}, "memory_mb"),
        ({"environment": {"AWS_REGION": "x"}}, "reserved key(s) AWS_REGION"),
        ({"environment": {"N": 1}}, "environment entry 'N'"),
        ({"arn": "arn:\u00e9"}, "single-line ASCII"),
    ],
)
def test_bad_specs_are_rejected_naming_function_and_field(code_dir, changes, fragment) -> None:
    fields = {"name": "fn", "code_dir": code_dir, "handler": "app.ok", **changes}
    rt = LocalRuntime()
    with pytest.raises(InvalidFunctionSpec) as info:
        rt.register(FunctionSpec(**fields))
    assert fragment in str(info.value)
    assert rt.functions() == []


def test_functions_lists_normalized_specs(code_dir) -> None:
    rt = LocalRuntime(region="us-west-2", account_id="999988887777")
    rt.register(FunctionSpec("a", code_dir, "app.ok"))
    rt.register(FunctionSpec("b", code_dir, "app.ok", arn="arn:custom"))
    specs = {s.name: s for s in rt.functions()}
    assert specs["a"].arn == "arn:aws:lambda:us-west-2:999988887777:function:a"
    assert specs["b"].arn == "arn:custom"
    assert specs["a"].code_dir.is_absolute()
    specs["a"].environment["X"] = "mutated"
    assert rt.functions()[0].environment == {}


def test_invoke_before_start_is_a_clear_error(code_dir) -> None:
    rt = LocalRuntime()
    rt.register(FunctionSpec("a", code_dir, "app.ok"))
    with pytest.raises(RuntimeNotStarted, match="call start"):
        rt.invoke("a", b"{}")


def test_payload_must_be_bytes(runtime: LocalRuntime, code_dir) -> None:
    runtime.register(FunctionSpec("a", code_dir, "app.ok"))
    with pytest.raises(TypeError, match="payload must be bytes"):
        runtime.invoke("a", "{}")  # type: ignore[arg-type]


def test_concurrent_invokes_use_up_to_max_workers(code_dir) -> None:
    with LocalRuntime(max_workers=2) as rt:
        rt.register(FunctionSpec("p", code_dir, "app.pid"))
        rt.invoke("p", b"{}")
        with ThreadPoolExecutor(4) as ex:
            began = time.monotonic()
            pids = list(ex.map(lambda _: json.loads(rt.invoke("p", b'{"sleep": 0.4}').payload), range(4)))
            elapsed = time.monotonic() - began
    assert len(set(pids)) == 2  # two processes served four invokes
    assert 0.75 < elapsed < 2.0, elapsed  # two waves of 0.4 s, not four, not one


def test_concurrent_invokes_of_several_functions_do_not_cross(runtime: LocalRuntime, code_dir) -> None:
    runtime.register(FunctionSpec("f1", code_dir, "app.ok"))
    runtime.register(FunctionSpec("f2", code_dir, "app.ctx"))

    def call(i: int) -> tuple[int, dict]:
        name = "f1" if i % 2 else "f2"
        return i, json.loads(runtime.invoke(name, json.dumps({"i": i}).encode()).payload)

    with ThreadPoolExecutor(6) as ex:
        for i, doc in ex.map(call, range(40)):
            if i % 2:
                assert doc["echo"] == {"i": i}
            else:
                assert doc["function_name"] == "f2"


def test_reregister_replaces_code_and_retires_old_worker(runtime: LocalRuntime, write_dir) -> None:
    v1 = write_dir("v1", {"app.py": "import os\ndef handler(e, c):\n    return ['v1', os.getpid()]\n"})
    v2 = write_dir("v2", {"app.py": "import os\ndef handler(e, c):\n    return ['v2', os.getpid()]\n"})
    runtime.register(FunctionSpec("f", v1, "app.handler"))
    version, old_pid = json.loads(runtime.invoke("f", b"{}").payload)
    assert version == "v1"
    runtime.register(FunctionSpec("f", v2, "app.handler"))
    version, new_pid = json.loads(runtime.invoke("f", b"{}").payload)
    assert version == "v2" and new_pid != old_pid
    _wait_gone(old_pid)


def test_stop_kills_every_worker_and_start_serves_again(code_dir) -> None:
    rt = LocalRuntime(max_workers=2)
    rt.start()
    rt.register(FunctionSpec("p", code_dir, "app.pid"))
    with ThreadPoolExecutor(2) as ex:
        pids = set(ex.map(lambda _: json.loads(rt.invoke("p", b'{"sleep": 0.2}').payload), range(2)))
    rt.stop()
    for pid in pids:
        _wait_gone(pid)
    rt.start()
    try:
        assert rt.invoke("p", b"{}").function_error is None
    finally:
        rt.stop()


def test_stop_during_an_invoke_raises_service_error(code_dir) -> None:
    rt = LocalRuntime()
    rt.start()
    rt.register(FunctionSpec("s", code_dir, "app.sleepy", timeout_s=30))
    rt.invoke("s", b'{"sleep": 0}')
    outcome: list[BaseException | object] = []
    t = threading.Thread(target=lambda: _capture(outcome, lambda: rt.invoke("s", b'{"sleep": 20}')))
    t.start()
    time.sleep(0.3)
    began = time.monotonic()
    rt.stop()
    t.join(5)
    assert time.monotonic() - began < 3
    assert isinstance(outcome[0], InvokeServiceError)


def _capture(box: list, fn) -> None:
    try:
        box.append(fn())
    except BaseException as exc:  # noqa: BLE001
        box.append(exc)


def _wait_gone(pid: int, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    raise AssertionError(f"worker process {pid} still alive")
