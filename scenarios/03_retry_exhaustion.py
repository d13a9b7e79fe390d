"""Retry exhaustion without bisect: the whole batch goes to S3 (spec 0.2, 1, 9.1)."""

from _sample import checks as sample
from _sample.orders import orders
from harness.scenarios import expect
from harness.scenarios.model import Scenario
from harness.verdict import check

CONTEXT = {"batchSize": 10, "retryAttempts": 2, "bisect": False, "reportBatchItemFailures": False}
POISON = [4]


def checks(obs, run):
    objs = obs.failure_objects
    batch_invokes = [i for i in obs.invocations if i["records"] == list(range(10))]
    return [
        expect.failure_objects(obs, 1, why="the whole batch", spec="1 (end of retries)"),
        check("the failure object holds the whole batch", [list(range(10))], [o.records for o in objs], spec="9.1"),
        check("batchSize = batch length", [10], [o.batch_size for o in objs], spec="3.2"),
        *expect.envelope(obs, condition="RetryAttemptsExhausted", invoke_count=CONTEXT["retryAttempts"] + 1,
                         function_error="Unhandled"),
        check("the identical batch is invoked retries + 1 times", CONTEXT["retryAttempts"] + 1, len(batch_invokes),
              spec="9.1"),
        check("no order is processed (the whole batch is discarded)", [], obs.processed, spec="1"),
        sample.archived(obs, run),
    ]


SCENARIO = Scenario(
    name="retry-exhaustion",
    title="Retry exhaustion without bisect: whole batch in S3",
    description="Ten orders, order 4 poison, bisect off, MaximumRetryAttempts 2: the identical batch is invoked "
                "three times, then the whole batch is written to S3 with approximateInvokeCount 3 and "
                "functionError Unhandled; the shard moves on.",
    spec_sections=("0.2", "1", "3.2", "9.1"),
    context=CONTEXT,
    items=tuple(orders(10, POISON, run='retry-exhaustion')),
    poison=tuple(POISON),
    # Without bisect the good orders go to S3 with the poison, unprocessed: a loss this scenario documents.
    expect={"in_failure_records": list(range(10))},
    checks=checks,
    aws=True,  # the real consumer rejects the poison (negative amount); no wrapper, real clock
    rules=(("retries exhausted: whole batch to the destination, invoke count = retries + 1", "0.2, 9.1"),
           ("approximateInvokeCount = 1 + MaximumRetryAttempts", "0.2")),
)
