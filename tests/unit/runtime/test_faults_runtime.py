"""Injected faults in the local runtime, around a function's own (untouched) handler, in Python and
Node.js: one test per fault kind per language, each naming the spec section it exercises.

The handler writes one file per run naming the eventIDs it saw, so each test can tell whether the
handler ran (after_handler, partial) or not (a fault before the handler).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pytest

from harness.faults import FaultInjector
from harness.invoke import InvokeServiceError
from harness.journal import Journal
from harness.runtime import FunctionSpec, LocalRuntime

PY = f"python3.{sys.version_info[1]}"
HAS_NODE = shutil.which("node") is not None and shutil.which("npm") is not None
LANGS = [PY, pytest.param("nodejs24.x", marks=pytest.mark.skipif(not HAS_NODE, reason="Node.js and npm needed"))]

PY_HANDLER = '''
import json, os, time
def handler(event, context):
    ids = [r["eventID"] for r in event.get("Records", [])]
    with open(os.path.join(os.environ["MARKS"], str(time.time_ns())), "w") as fh:
        fh.write(json.dumps(ids))
    return {"batchItemFailures": []}
'''
NODE_HANDLER = '''
const fs = require("fs"); const path = require("path");
exports.handler = async (event) => {
  const ids = (event.Records || []).map((r) => r.eventID);
  fs.writeFileSync(path.join(process.env.MARKS, String(process.hrtime.bigint())), JSON.stringify(ids));
  return { batchItemFailures: [] };
};
'''


def _records(n: int) -> list[dict]:
    return [{"eventID": f"e{i}", "eventSource": "aws:dynamodb",
             "dynamodb": {"SequenceNumber": str(100 + i), "NewImage": {"status": {"S": "bad" if i == 1 else "ok"}}}}
            for i in range(n)]


def _payload(n: int = 3) -> bytes:
    return json.dumps({"Records": _records(n)}).encode()


@pytest.fixture
def setup(tmp_path: Path, request):
    """(runtime, injector, marks folder, journal) for one function in the language `request.param`."""
    def make(runtime_name: str, timeout_s: float = 2.0):
        code = tmp_path / "fn"
        code.mkdir()
        if runtime_name.startswith("python"):
            (code / "app.py").write_text(PY_HANDLER)
            handler = "app.handler"
        else:
            (code / "index.js").write_text(NODE_HANDLER)
            handler = "index.handler"
        marks = tmp_path / "marks"
        marks.mkdir()
        journal = Journal()
        rt = LocalRuntime(journal=journal)
        rt.register(FunctionSpec("consumer", code, handler, runtime=runtime_name, timeout_s=timeout_s,
                                 environment={"MARKS": str(marks)}))
        rt.start()
        request.addfinalizer(rt.stop)
        inj = FaultInjector(journal=journal, now=time.time, consumer="consumer")
        inj.install(rt)
        return rt, inj, marks, journal
    return make


def _runs(marks: Path) -> list[list[str]]:
    return [json.loads(p.read_text()) for p in sorted(marks.iterdir(), key=lambda p: int(p.name))]


@pytest.mark.parametrize("lang", LANGS)
def test_error_fault_fails_unhandled_without_running_the_handler_spec_1(setup, lang):
    """Spec 1: an unhandled error is a function error (functionError Unhandled)."""
    rt, inj, marks, journal = setup(lang)
    inj.add([{"fault": "error", "items": [1], "message": "boom on 1"}])
    inj.bind_items({"e0": 0, "e1": 1, "e2": 2})
    r = rt.invoke("consumer", _payload())
    assert r.function_error == "Unhandled"
    doc = json.loads(r.payload)
    assert doc["errorMessage"] == "boom on 1"
    assert doc["errorType"] == ("InjectedFault" if lang.startswith("python") else "Error")
    assert _runs(marks) == []
    ok = rt.invoke("consumer", json.dumps({"Records": _records(1)}).encode())  # item 0 only: not selected
    assert ok.function_error is None and _runs(marks) == [["e0"]]
    injected = [e for e in journal.entries() if e["kind"] == "fault_injected"]
    assert [(e["fault"], e["items"], e["selected"]) for e in injected] == [("error", [1], ["101"])]


@pytest.mark.parametrize("lang", LANGS)
def test_error_after_handler_runs_the_handler_first_spec_1(setup, lang):
    """Spec 1: the handler's side effects happen, then the invocation fails as a function error."""
    rt, inj, marks, _ = setup(lang)
    inj.add([{"fault": "error", "after_handler": True}])
    r = rt.invoke("consumer", _payload())
    assert r.function_error == "Unhandled"
    assert _runs(marks) == [["e0", "e1", "e2"]]


@pytest.mark.parametrize("lang", LANGS)
def test_timeout_fault_reports_task_timed_out_and_starts_cold_next_spec_1(setup, lang):
    """Spec 1: "A function error includes ... a timeout"; the environment is reset (cold start next)."""
    rt, inj, marks, journal = setup(lang, timeout_s=1.0)
    rt.invoke("consumer", json.dumps({"Records": []}).encode())  # warm
    inj.add([{"fault": "timeout", "times": 1}])
    began = time.monotonic()
    r = rt.invoke("consumer", _payload())
    assert time.monotonic() - began >= 0.9  # a real clock waits the timeout out
    assert r.function_error == "Unhandled" and "Task timed out after 1.00 seconds" in json.loads(r.payload)["errorMessage"]
    assert r.duration_ms == pytest.approx(1000.0)
    again = rt.invoke("consumer", _payload())  # times: 1 used up
    assert again.function_error is None
    cold = [e["cold_start"] for e in journal.entries() if e["kind"] == "runtime_invoke" and e["outcome"] != "injected"]
    assert cold[-1] is True


@pytest.mark.parametrize("lang", LANGS)
def test_timeout_under_a_virtual_clock_does_not_wait_spec_1(setup, lang):
    rt, _, marks, journal = setup(lang, timeout_s=30.0)
    inj = FaultInjector(journal=journal, now=time.time, consumer="consumer", wait=False)
    inj.install(rt)
    inj.add([{"fault": "timeout"}])
    began = time.monotonic()
    r = rt.invoke("consumer", _payload())
    assert time.monotonic() - began < 5 and "Task timed out after 30.00 seconds" in r.payload.decode()


@pytest.mark.parametrize("lang", LANGS)
def test_crash_fault_is_a_runtime_exit_error_and_the_next_invoke_is_cold_spec_1(setup, lang):
    """Spec 1/3.2: a crash is a function error ("Unhandled", Runtime.ExitError); a new process serves next."""
    rt, inj, marks, journal = setup(lang)
    rt.invoke("consumer", json.dumps({"Records": []}).encode())  # warm
    inj.add([{"fault": "crash", "times": 1, "after_handler": True}])
    r = rt.invoke("consumer", _payload())
    assert r.function_error == "Unhandled" and json.loads(r.payload)["errorType"] == "Runtime.ExitError"
    assert _runs(marks) == [[], ["e0", "e1", "e2"]]  # after_handler: the handler ran before the exit
    assert rt.invoke("consumer", _payload()).function_error is None
    cold = [e["cold_start"] for e in journal.entries() if e["kind"] == "runtime_invoke" and e["outcome"] != "injected"]
    assert cold == [True, False, True]


@pytest.mark.parametrize("lang", LANGS)
def test_throttle_fault_never_reaches_the_function_spec_1(setup, lang):
    """Spec 1: a throttle is an error "where the batch didn't reach the function" (InvokeServiceError)."""
    rt, inj, marks, _ = setup(lang)
    inj.add([{"fault": "throttle", "match": {"dynamodb": {"NewImage": {"status": {"S": ["bad"]}}}}, "times": 2}])
    for _ in range(2):
        with pytest.raises(InvokeServiceError) as info:
            rt.invoke("consumer", _payload())
        assert info.value.throttled and "TooManyRequestsException" in str(info.value)
    assert _runs(marks) == []
    assert rt.invoke("consumer", _payload()).function_error is None  # times: 2 used up
    assert len(_runs(marks)) == 1


@pytest.mark.parametrize("lang", LANGS)
def test_latency_fault_adds_time_and_can_push_past_the_timeout_spec_1(setup, lang):
    """Spec 1: an invocation that runs past its Timeout is a function error."""
    rt, inj, marks, _ = setup(lang, timeout_s=1.0)
    rt.invoke("consumer", json.dumps({"Records": []}).encode())  # warm
    inj.add([{"fault": "latency", "latency_ms": 300, "times": 1}, {"fault": "latency", "latency_ms": 1500}])
    began = time.monotonic()
    r = rt.invoke("consumer", _payload())
    assert r.function_error is None and time.monotonic() - began >= 0.3 and r.duration_ms >= 300
    late = rt.invoke("consumer", _payload())
    assert late.function_error == "Unhandled" and "Task timed out" in late.payload.decode()
    assert len(_runs(marks)) == 2  # the warm-up and the first; the second never reached the handler


@pytest.mark.parametrize("lang", LANGS)
def test_partial_fault_reports_the_selected_records_and_runs_the_handler_for_the_rest_spec_2_2(setup, lang):
    """Spec 2.2: batchItemFailures names the failed records by sequence number."""
    rt, inj, marks, _ = setup(lang)
    inj.add([{"fault": "partial", "match": {"dynamodb": {"NewImage": {"status": {"S": ["bad"]}}}}}])
    r = rt.invoke("consumer", _payload())
    assert r.function_error is None
    assert json.loads(r.payload) == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    assert _runs(marks) == [["e0", "e2"]]
    only_bad = rt.invoke("consumer", json.dumps({"Records": _records(2)[1:]}).encode())
    assert json.loads(only_bad.payload) == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    assert len(_runs(marks)) == 1  # nothing left to run the handler for


@pytest.mark.parametrize("lang", LANGS)
def test_partial_after_handler_merges_with_the_handlers_answer_spec_2_2(setup, lang):
    rt, inj, marks, _ = setup(lang)
    inj.add([{"fault": "partial", "items": [2], "after_handler": True}])
    inj.bind_items({"e0": 0, "e1": 1, "e2": 2})
    r = rt.invoke("consumer", _payload())
    assert json.loads(r.payload) == {"batchItemFailures": [{"itemIdentifier": "102"}]}
    assert _runs(marks) == [["e0", "e1", "e2"]]


def test_no_fault_configured_leaves_the_invoke_untouched(setup):
    rt, inj, marks, journal = setup(PY)
    inj.add([{"fault": "error", "function": "someone-else"}])
    assert rt.invoke("consumer", _payload()).function_error is None
    assert not [e for e in journal.entries() if e["kind"] == "fault_injected"]
    inj.clear()
    assert inj.listed() == []
