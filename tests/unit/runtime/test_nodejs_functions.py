"""Node.js functions under AWS's aws-lambda-ric: each handler style, each way an invoke ends.

Spec section 1 ("A function error includes an unhandled exception or a timeout"): every failure
below reaches the caller as function_error "Unhandled" with AWS's errorType in the payload.
nodejs20.x runs on aws-lambda-ric 3.x (as AWS's nodejs20.x does), nodejs24.x on 4.x; where the
two differ (callback handlers, unhandled rejections) each is tested on both.
The first run on a machine installs the RIC, the SDK and Node 24 from npm into the harness
cache (about a minute); later runs reuse it.
"""

from __future__ import annotations

import json
import shutil
import textwrap
import time
from pathlib import Path

import pytest

from harness.journal import Journal
from harness.runtime import FunctionSpec, LocalRuntime

pytestmark = pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None,
                                reason="Node.js and npm are needed for Node.js functions")

RUNTIMES = ("nodejs20.x", "nodejs24.x")

STYLES = {
    "index.js": """
        exports.handler = async (event, context) => ({
          style: "cjs", echo: event, requestId: context.awsRequestId, functionName: context.functionName,
          memory: context.memoryLimitInMB, remaining: context.getRemainingTimeInMillis(),
          logGroup: context.logGroupName, arn: context.invokedFunctionArn, node: process.version,
          env: Object.fromEntries(["AWS_EXECUTION_ENV", "AWS_REGION", "LAMBDA_TASK_ROOT", "_HANDLER",
            "AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_MAX_CONCURRENCY", "AWS_PROFILE",
            "AWS_SECRET_ACCESS_KEY", "NODE_PATH", "MY_SETTING"].map((k) => [k, process.env[k] ?? null])),
          cwd: process.cwd(),
        });
    """,
    "other.cjs": "module.exports.handler = async () => ({ style: 'cjs-extension' });\n",
    "esm.mjs": "export const handler = async (event) => ({ style: 'esm', echo: event });\n",
    "src/handlers/index.js": "exports.handler = async () => ({ style: 'nested' });\n",
    "callback.js": "exports.handler = (event, context, callback) => { setTimeout(() => callback(null, { style: 'callback' }), 5); };\n",
    "outcomes.js": """
        exports.boom = async (event) => { throw new TypeError("bad record " + event.id); };
        exports.sleepy = async (event) => { await new Promise((r) => setTimeout(r, event.sleep)); return { slept: true }; };
        exports.crash = async () => { console.log("about to crash"); process.exit(3); };
        exports.reject = async () => {
          Promise.reject(new Error("nobody catches me"));
          await new Promise((r) => setTimeout(r, 500));
          return "finished anyway";
        };
        exports.chatty = async (event) => {
          console.log("line one", event.n);
          console.error("to stderr", event.n);
          console.warn("a warning");
          return event.n;
        };
        exports.pid = async () => process.pid;
        exports.notAFunction = 42;
    """,
    "syntax.js": "exports.handler = async () => {\n",
    "syntax.mjs": "export const handler = async () => {\n",
    "needs_missing.js": "require('left-pad-that-is-not-installed');\nexports.handler = async () => 1;\n",
}


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("node-fn")
    for name, text in STYLES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    module = root / "typemodule"
    module.mkdir()
    (module / "package.json").write_text('{"type": "module"}\n')
    (module / "index.js").write_text("export const handler = async () => ({ style: 'type-module' });\n")
    return root


@pytest.fixture(scope="module")
def journal() -> Journal:
    return Journal()


@pytest.fixture(scope="module")
def rt(journal: Journal):
    runtime = LocalRuntime(journal=journal, base_environment={"AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
    with runtime:
        yield runtime


def _name(runtime: str, what: str) -> str:
    return f"{what}-{runtime.replace('.', '')}"


def _invoke(rt: LocalRuntime, name: str, event: object = None):
    return rt.invoke(name, json.dumps(event if event is not None else {}).encode())


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("handler, style", [
    ("index.handler", "cjs"),
    ("other.handler", "cjs-extension"),
    ("esm.handler", "esm"),
    ("src/handlers/index.handler", "nested"),
    ("typemodule/index.handler", "type-module"),
])
def test_handler_styles_load_and_answer(rt: LocalRuntime, code: Path, runtime: str, handler: str, style: str) -> None:
    name = _name(runtime, "style-" + style)
    rt.register(FunctionSpec(name, code, handler, runtime=runtime, timeout_s=10))
    result = _invoke(rt, name, {"id": 1})
    assert result.function_error is None, result.payload
    assert json.loads(result.payload)["style"] == style


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_context_and_environment_are_awss(rt: LocalRuntime, code: Path, runtime: str) -> None:
    name = _name(runtime, "ctx")
    rt.register(FunctionSpec(name, code, "index.handler", runtime=runtime, timeout_s=5, memory_mb=256,
                             environment={"MY_SETTING": "x"}))
    result = _invoke(rt, name, {"k": "v"})
    assert result.function_error is None, result.payload
    doc = json.loads(result.payload)
    assert doc["echo"] == {"k": "v"}
    assert doc["requestId"] == result.request_id
    assert doc["functionName"] == name and doc["memory"] == "256"
    assert doc["logGroup"] == f"/aws/lambda/{name}"
    assert doc["arn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    assert 3000 < doc["remaining"] <= 5000
    assert doc["node"].startswith("v" + runtime[len("nodejs"):-2] + ".")
    env = doc["env"]
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{runtime}"
    assert env["LAMBDA_TASK_ROOT"] == str(code.resolve()) == doc["cwd"]
    assert env["_HANDLER"] == "index.handler" and env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1" and env["MY_SETTING"] == "x"
    assert env["AWS_LAMBDA_MAX_CONCURRENCY"] is None  # would switch aws-lambda-ric 4.x to another mode
    node_path = env["NODE_PATH"].split(":")
    assert node_path[-1] == str(code.resolve())
    assert not any("aws-lambda-ric" in p for p in node_path)  # the RIC's own dependencies stay its own


def test_callback_handler_works_on_nodejs20_and_is_refused_on_nodejs24(rt: LocalRuntime, code: Path) -> None:
    """AWS removed callback handlers in nodejs24.x; its RIC refuses them at init."""
    rt.register(FunctionSpec("callback-20", code, "callback.handler", runtime="nodejs20.x"))
    assert json.loads(_invoke(rt, "callback-20").payload) == {"style": "callback"}
    rt.register(FunctionSpec("callback-24", code, "callback.handler", runtime="nodejs24.x"))
    result = _invoke(rt, "callback-24")
    assert result.function_error == "Unhandled"
    doc = json.loads(result.payload)
    assert doc["errorType"] == "Runtime.CallbackHandlerDeprecated"
    assert "Node.js 24" in doc["errorMessage"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_exception_is_unhandled_with_the_rics_error_document(rt: LocalRuntime, code: Path, runtime: str) -> None:
    name = _name(runtime, "boom")
    rt.register(FunctionSpec(name, code, "outcomes.boom", runtime=runtime))
    result = _invoke(rt, name, {"id": 3})
    assert result.function_error == "Unhandled"
    doc = json.loads(result.payload)
    assert doc["errorType"] == "TypeError" and doc["errorMessage"] == "bad record 3"
    assert doc["trace"][0] == "TypeError: bad record 3"
    again = json.loads(_invoke(rt, name, {"id": 4}).payload)  # the process survives a thrown error
    assert again["errorMessage"] == "bad record 4"


@pytest.mark.parametrize("runtime, handler, error_type, fragment", [
    (runtime, handler, error_type, fragment)
    for runtime in RUNTIMES
    for handler, error_type, fragment in [
        ("missing_module.handler", "Runtime.ImportModuleError", "missing_module"),
        ("needs_missing.handler", "Runtime.ImportModuleError", "left-pad-that-is-not-installed"),
        ("syntax.handler", "Runtime.UserCodeSyntaxError", "SyntaxError"),
        ("syntax.handler_esm", "Runtime.UserCodeSyntaxError", "SyntaxError"),
        ("outcomes.nothere", "Runtime.HandlerNotFound", "outcomes.nothere is undefined or not exported"),
        ("outcomes.notAFunction", "Runtime.HandlerNotFound", "outcomes.notAFunction is not a function"),
    ]
])
def test_init_errors_have_awss_names_on_every_invoke(rt: LocalRuntime, code: Path, runtime: str, handler: str,
                                                      error_type: str, fragment: str) -> None:
    if handler == "syntax.handler_esm":
        esm = code / "esm-syntax"
        esm.mkdir(exist_ok=True)
        shutil.copy(code / "syntax.mjs", esm / "syntax.mjs")
        spec_code, handler = esm, "syntax.handler"
    else:
        spec_code = code
    name = _name(runtime, "init-" + handler.replace(".", "-").replace("_", "-"))[:64]
    rt.register(FunctionSpec(name, spec_code, handler, runtime=runtime))
    for _ in range(2):
        began = time.monotonic()
        result = _invoke(rt, name)
        assert time.monotonic() - began < 8
        assert result.function_error == "Unhandled"
        doc = json.loads(result.payload)
        assert doc["errorType"] == error_type, doc
        assert fragment in doc["errorMessage"], doc


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_timeout_kills_and_replaces_the_process(rt: LocalRuntime, code: Path, runtime: str) -> None:
    slow = _name(runtime, "slow")
    rt.register(FunctionSpec(slow, code, "outcomes.sleepy", runtime=runtime, timeout_s=1))
    assert json.loads(_invoke(rt, slow, {"sleep": 1}).payload) == {"slept": True}  # warm it
    began = time.monotonic()
    result = _invoke(rt, slow, {"sleep": 30_000})
    assert 0.95 <= time.monotonic() - began < 1.8
    assert result.function_error == "Unhandled"
    doc = json.loads(result.payload)
    assert doc["errorType"] == "Sandbox.Timedout"
    assert doc["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert json.loads(_invoke(rt, slow, {"sleep": 1}).payload) == {"slept": True}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_process_exit_is_runtime_exit_error_and_the_worker_is_replaced(rt: LocalRuntime, code: Path, journal: Journal,
                                                                        runtime: str) -> None:
    name = _name(runtime, "crash")
    rt.register(FunctionSpec(name, code, "outcomes.crash", runtime=runtime))
    for _ in range(2):
        result = _invoke(rt, name)
        assert result.function_error == "Unhandled"
        assert json.loads(result.payload) == {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: exit status 3",
        }
        assert "about to crash" in result.log_tail
    assert len(journal.entries("runtime_worker_exit", function=name, expected=False)) == 2


def test_unhandled_rejection_is_a_function_error_on_both_rics(rt: LocalRuntime, code: Path) -> None:
    """3.x (nodejs20.x) posts Runtime.UnhandledPromiseRejection, then exits; 4.x (nodejs24.x) lets
    Node end the process, which the platform reports as Runtime.ExitError."""
    rt.register(FunctionSpec("reject-20", code, "outcomes.reject", runtime="nodejs20.x"))
    rt.register(FunctionSpec("reject-24", code, "outcomes.reject", runtime="nodejs24.x"))
    old = _invoke(rt, "reject-20")
    assert old.function_error == "Unhandled"
    doc = json.loads(old.payload)
    assert doc["errorType"] == "Runtime.UnhandledPromiseRejection"
    assert doc["errorMessage"] == "Error: nobody catches me"
    new = _invoke(rt, "reject-24")
    assert new.function_error == "Unhandled"
    assert json.loads(new.payload)["errorType"] == "Runtime.ExitError"
    assert "nobody catches me" in new.log_tail
    for name in ("reject-20", "reject-24"):  # a fresh process serves the next invoke, and fails the same way
        assert _invoke(rt, name).function_error == "Unhandled"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_logs_reach_the_journal_attributed_to_the_invoke(rt: LocalRuntime, code: Path, journal: Journal,
                                                         runtime: str) -> None:
    name = _name(runtime, "chatty")
    rt.register(FunctionSpec(name, code, "outcomes.chatty", runtime=runtime))
    result = _invoke(rt, name, {"n": 7})
    assert json.loads(result.payload) == 7
    lines = [e["line"] for e in journal.entries("function_log", function=name, request_id=result.request_id)]
    assert any(line.endswith(f"\t{result.request_id}\tINFO\tline one 7") for line in lines), lines
    assert any(f"\t{result.request_id}\tERROR\tto stderr 7" in line for line in lines), lines
    assert any(f"\t{result.request_id}\tWARN\ta warning" in line for line in lines), lines
    assert "INFO\tline one 7" in result.log_tail


def test_warm_invokes_reuse_one_process(rt: LocalRuntime, code: Path) -> None:
    rt.register(FunctionSpec("pid-24", code, "outcomes.pid", runtime="nodejs24.x"))
    pids = {json.loads(_invoke(rt, "pid-24").payload) for _ in range(5)}
    assert len(pids) == 1
