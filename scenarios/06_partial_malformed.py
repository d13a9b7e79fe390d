"""A malformed partial batch response is a complete failure, retried and counted (spec 2.3)."""

from _sample import checks as sample
from _sample.orders import orders
from _sample.wrappers import use_wrapper
from harness.scenarios import expect
from harness.scenarios.model import Scenario

CONTEXT = {"batchSize": 10, "retryAttempts": 2, "bisect": True, "reportBatchItemFailures": True}
POISON = [6]


def checks(obs, run):
    return [
        expect.failure_objects(obs, 1, spec="2.3"),
        *expect.isolated(obs, POISON, spec="2.3, 2.4"),
        *expect.envelope(obs, condition="RetryAttemptsExhausted", invoke_count=CONTEXT["retryAttempts"] + 1,
                         function_error=None, spec="2.3 (functionError null)"),
        sample.all_good_projected(obs, run, POISON),
        sample.archived(obs, run),
    ]


SCENARIO = Scenario(
    name="partial-batch-malformed",
    title="Partial batch response (malformed): complete failure, functionError null",
    description="ReportBatchItemFailures on; for a batch holding poison order 6 a wrapper answers with an "
                "itemIdentifier that is not in the batch. That is a complete failure: bisected (2.4), retried and "
                "counted; the failure object says functionError null and approximateInvokeCount = retries + 1.",
    spec_sections=("2.3", "2.4", "3.2"),
    context=CONTEXT,
    items=tuple(orders(10, POISON, run='partial-batch-malformed')),
    poison=tuple(POISON),
    prepare=use_wrapper("partial-malformed"),
    handler="partial-malformed",
    checks=checks,
    rules=(("malformed partial response: complete failure, retried, functionError null", "2.3"),),
)
