"""Success shapes of a partial batch response: [], null list, {}, null, "" (spec 2.3)."""

from _sample import checks as sample
from _sample.orders import orders
from _sample.wrappers import use_wrapper
from harness.scenarios import expect
from harness.scenarios.model import Scenario
from harness.verdict import check

CONTEXT = {"batchSize": 10, "retryAttempts": 2, "bisect": True, "reportBatchItemFailures": True}


def checks(obs, run):
    batches = [list(range(b, b + 10)) for b in range(0, 50, 10)]
    return [
        check("each batch is invoked exactly once (every shape is a complete success)", batches,
              [i["records"] for i in obs.invocations], spec="2.3"),
        expect.failure_objects(obs, 0, why="nothing failed", spec="2.3"),
        check("every order committed", list(range(50)), obs.processed, spec="2.3"),
        sample.all_good_projected(obs, run, []),
        sample.archived(obs, run),
    ]


SCENARIO = Scenario(
    name="partial-batch-success-shapes",
    title="Partial batch response: empty and null responses are complete success",
    description="Fifty orders in five batches; a wrapper answers batch n with one of the spec 2.3 success shapes: "
                "{\"batchItemFailures\": []}, {\"batchItemFailures\": null}, {}, null and \"\". Each must commit its "
                "batch after one invocation.",
    spec_sections=("2.3",),
    context=CONTEXT,
    items=tuple(orders(50, (), run='partial-batch-success-sh')),
    prepare=use_wrapper("success-shapes", {"SHAPE_BATCH": "10"}),
    checks=checks,
    rules=(("empty / null batchItemFailures, {} and null responses are complete success", "2.3"),),
)
