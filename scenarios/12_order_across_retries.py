"""Order per shard is kept across retries (spec 1: in-order processing, the shard pauses)."""

from _sample import checks as sample
from _sample.orders import orders
from _sample.wrappers import use_wrapper
from harness.scenarios import expect
from harness.scenarios.model import Scenario
from harness.verdict import check

CONTEXT = {"batchSize": 10, "retryAttempts": 2, "bisect": False, "reportBatchItemFailures": False}
FLAKY = 13
FAIL_TIMES = 2


def checks(obs, run):
    second = list(range(10, 20))
    return [
        check("the batch holding the flaky order is invoked fail_times + 1 times", FAIL_TIMES + 1,
              sum(1 for i in obs.invocations if i["records"] == second), spec="1"),
        expect.failure_objects(obs, 0, why="the transient failure recovers within the retries", spec="1"),
        check("every order processed", list(range(20)), obs.processed, spec="1"),
        expect.invocations_in_order(obs),
        *sample.projected_once_in_order(obs, run),
        sample.all_good_projected(obs, run, []),
        sample.archived(obs, run),
    ]


SCENARIO = Scenario(
    name="order-across-retries",
    title="Order per shard kept across retries",
    description="Twenty orders in two batches; order 13 fails its first two deliveries (a transient fault). The "
                "second batch is retried as a whole; nothing after order 13 is projected before it, every order is "
                "projected exactly once, in sequence order.",
    spec_sections=("1",),
    context=CONTEXT,
    items=tuple(orders(20, (), run='order-across-retries')),
    prepare=use_wrapper("flaky", {"FLAKY_INDEXES": str(FLAKY), "FLAKY_TIMES": str(FAIL_TIMES)}),
    poison=(FLAKY,),
    fail_times=FAIL_TIMES,
    expect={"poison": "processed"},  # a transient fault: the record recovers within the retries
    checks=checks,
    rules=(("records of a shard are processed in order", "1"),
           ("a failed batch is retried whole until it succeeds (within the retries)", "1")),
)
