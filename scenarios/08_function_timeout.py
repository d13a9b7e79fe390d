"""A function timeout is a function error (Unhandled): retried, bisected, counted (spec 1, 3.2)."""

from _sample import checks as sample
from _sample.orders import orders
from _sample.wrappers import use_wrapper
from harness.scenarios import expect
from harness.scenarios.model import Scenario
from harness.verdict import check

CONTEXT = {"batchSize": 10, "retryAttempts": 2, "bisect": True, "reportBatchItemFailures": False}
POISON = [1]


def checks(obs, run):
    timed_out = [e for e in run.pipe.journal.entries("runtime_invoke", function=run.consumer)
                 if e.get("error_type") == "Sandbox.Timedout"]
    failing = [i for i in obs.invocations if i["outcome"] == "function_error"]
    return [
        expect.failure_objects(obs, 1, spec="1"),
        *expect.isolated(obs, POISON),
        *expect.envelope(obs, condition="RetryAttemptsExhausted", invoke_count=CONTEXT["retryAttempts"] + 1,
                         function_error="Unhandled"),
        check("every failed invocation was a timeout (Sandbox.Timedout)", len(failing), len(timed_out), spec="1"),
        sample.all_good_projected(obs, run, POISON),
        sample.archived(obs, run),
    ]


SCENARIO = Scenario(
    name="function-timeout",
    title="Function timeout: counted as a function error",
    description="Four orders, order 1 poison; a wrapper sleeps past the function timeout whenever a batch holds the "
                "poison. The runtime kills the worker (Sandbox.Timedout); the ESM treats it as an Unhandled "
                "function error: bisect, retries, failure object.",
    spec_sections=("1", "3.2"),
    context=CONTEXT,
    items=tuple(orders(4, POISON, run='function-timeout')),
    poison=tuple(POISON),
    prepare=use_wrapper("timeout", timeout_s=0.5),
    handler="timeout",
    checks=checks,
    rules=(("a timeout is a function error: retried, counted, functionError Unhandled", "1, 3.2"),),
)
