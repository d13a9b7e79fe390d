"""One poison order in a batch of ten: bisect isolates it (spec 2.1)."""

from _sample import checks as sample
from _sample.orders import orders
from harness.scenarios import expect
from harness.scenarios.model import Scenario

CONTEXT = {"batchSize": 10, "retryAttempts": 2, "bisect": True, "reportBatchItemFailures": False}
POISON = [4]


def checks(obs, run):
    return [
        expect.failure_objects(obs, 1, why="bisect isolates the poison", spec="2.1"),
        *expect.isolated(obs, POISON),
        *expect.envelope(obs, condition="RetryAttemptsExhausted", invoke_count=CONTEXT["retryAttempts"] + 1,
                         function_error="Unhandled"),
        sample.all_good_projected(obs, run, POISON),
        sample.poison_not_projected(obs, run, POISON),
        sample.archived(obs, run),
    ]


SCENARIO = Scenario(
    name="one-poison-bisect",
    title="One poison record in a batch: bisect isolates it",
    description="Ten orders, order 4 has a negative amount. With BisectBatchOnFunctionError the batch is split "
                "until the poison is alone; it uses its retries and lands in S3 as a one-record failure object; "
                "every other order is projected.",
    spec_sections=("2.1", "0.2", "3.2", "3.3", "4"),
    context=CONTEXT,
    items=tuple(orders(10, POISON, run='one-poison-bisect')),
    poison=tuple(POISON),
    checks=checks,
    aws=True,  # the real consumer rejects the poison (negative amount); no wrapper, real clock
    rules=(("bisect isolates a poison record (batchSize 1, start = end)", "2.1"),
           ("approximateInvokeCount = 1 + MaximumRetryAttempts", "0.2"),
           ("S3 failure object: ESM key layout, envelope, payload string", "3.2, 3.5, 4")),
)
