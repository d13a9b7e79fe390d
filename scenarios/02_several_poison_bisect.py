"""Several poison orders: adjacent ones and ones at batch edges, each isolated by bisect (spec 2.1)."""

from _sample import checks as sample
from _sample.orders import orders
from harness.scenarios import expect
from harness.scenarios.model import Scenario

CONTEXT = {"batchSize": 10, "retryAttempts": 2, "bisect": True, "reportBatchItemFailures": False}
# Two batches of ten: 0 and 9 / 10 and 19 sit at batch edges, 4 and 5 are adjacent.
POISON = [0, 4, 5, 9, 10, 19]


def checks(obs, run):
    return [
        expect.failure_objects(obs, len(POISON), why="one per poison record", spec="2.1"),
        *expect.isolated(obs, POISON),
        *expect.envelope(obs, condition="RetryAttemptsExhausted", invoke_count=CONTEXT["retryAttempts"] + 1,
                         function_error="Unhandled"),
        sample.all_good_projected(obs, run, POISON),
        sample.poison_not_projected(obs, run, POISON),
        expect.invocations_in_order(obs),
        sample.archived(obs, run),
    ]


SCENARIO = Scenario(
    name="several-poison-bisect",
    title="Several poison records, adjacent and at batch edges",
    description="Twenty orders in two batches of ten; orders 0, 9, 10 and 19 (batch edges) and 4, 5 (adjacent) "
                "are poison. Bisect must isolate each into its own one-record failure object while every good "
                "order is projected and the shard keeps its order.",
    spec_sections=("2.1", "0.2", "1", "3.2"),
    context=CONTEXT,
    items=tuple(orders(20, POISON, run='several-poison-bisect')),
    poison=tuple(POISON),
    checks=checks,
    aws=True,  # the real consumer rejects the poison (negative amount); no wrapper, real clock
    rules=(("bisect isolates a poison record (batchSize 1, start = end)", "2.1"),
           ("bisect isolates adjacent poison records and poison at batch edges", "2.1"),
           ("records of a shard are processed in order", "1")),
)
