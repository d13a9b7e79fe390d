"""MaximumRetryAttempts -1: the poison blocks its shard until it ages out, and the records
behind it age out too (spec 1, 9.2)."""

from _sample import checks as sample
from _sample.orders import orders
from harness.scenarios import expect
from harness.scenarios.model import Scenario
from harness.verdict import check

CONTEXT = {"batchSize": 1, "retryAttempts": -1, "bisect": False, "reportBatchItemFailures": False,
           "maxRecordAgeSeconds": 60}
POISON = [2]
COUNT = 6


def checks(obs, run):
    objs = sorted(obs.failure_objects, key=lambda o: o.records)
    poison_obj = [o for o in objs if o.records == POISON]
    invoked_before_discard = [i["records"] for i in obs.invocations]
    first_poison = invoked_before_discard.index(POISON) if POISON in invoked_before_discard else -1
    later = [r for r in invoked_before_discard[first_poison:] if r != POISON] if first_poison >= 0 else []
    behind = list(range(POISON[0] + 1, COUNT))
    return [
        check("MaximumRetryAttempts is -1 on the deployed mapping", -1, obs.mapping.get("MaximumRetryAttempts"),
              spec="1"),
        check("the poison is retried until its age ends it (RecordAgeExceeded)", ["RecordAgeExceeded"],
              [o.condition for o in poison_obj], spec="1, 9.2"),
        check("approximateInvokeCount of the poison = its invocations (8 with the AWS-OBS cadence)",
              [sum(1 for r in invoked_before_discard if r == POISON)],
              [o.approximate_invoke_count for o in poison_obj], spec="1 (retry cadence)"),
        check("no record behind the poison is invoked while the shard is blocked", [], later, spec="1 (ordering)"),
        check("records behind the poison aged out while blocked: discarded, never invoked (count 1)",
              [([i], "RecordAgeExceeded", 1) for i in behind],
              [(o.records, o.condition, o.approximate_invoke_count) for o in objs if o.records != POISON],
              spec="1 (record age), 3.2"),
        check("records before the poison are processed", [0, 1], obs.processed, spec="1"),
        sample.archived(obs, run),
    ]


SCENARIO = Scenario(
    name="unbounded-retries",
    title="Unbounded retries (-1) block the shard until the record ages out",
    description="MaximumRetryAttempts -1 and MaximumRecordAgeInSeconds 60, batch size 1. Order 2 always fails and "
                "is retried (virtual time) until it is older than 60 s; nothing behind it is invoked meanwhile, and "
                "by then the orders behind it are older than 60 s as well, so they are discarded unprocessed.",
    spec_sections=("1", "3.2", "3.3", "9.2"),
    context=CONTEXT,
    items=tuple(orders(COUNT, POISON, run='unbounded-retries')),
    poison=tuple(POISON),
    # The orders behind the poison age out while it blocks the shard: a loss this scenario documents.
    expect={"in_failure_records": list(range(POISON[0], COUNT))},
    clock="virtual",
    checks=checks,
    rules=(("MaximumRetryAttempts -1: the shard is blocked until the record expires", "1, 9.2"),
           ("MaximumRecordAgeInSeconds: RecordAgeExceeded, no responseContext", "1, 3.3")),
)
