"""Replay after a fix: the failure object is replayed into the fixed consumer, once (issue 5)."""

from _sample import checks as sample
from _sample.orders import orders
from _sample.projection import projected
from _sample.wrappers import deploy_wrapper
from harness.failures import FailureStore
from harness.replay import ConsumerTarget, Replayer, S3Ledger
from harness.scenarios import expect
from harness.scenarios.model import Scenario
from harness.verdict import check

CONTEXT = {"batchSize": 10, "retryAttempts": 2, "bisect": True, "reportBatchItemFailures": False}
POISON = [4]


def replay_after_fix(run):
    """Deploy the fixed consumer (accepts refunds), replay every failure object, then replay again."""
    pipe = run.pipe
    deploy_wrapper(run, "fixed")
    store = FailureStore(pipe.backend.client("s3"), pipe.output("FailureBucketName"))
    target = ConsumerTarget(pipe.runtime, run.consumer)
    first = Replayer(store, target, execute=True, journal=pipe.journal).run()
    second = Replayer(store, target, execute=True, journal=pipe.journal).run()
    ids = {f"{o.key}#{seq}" for o in store.list() if o.record for seq in o.record.sequence_numbers}
    done = S3Ledger(store, target.target_id).done()
    run.facts["replay"] = {"first": first.counts, "first_ok": first.ok, "second": second.counts,
                           "second_ok": second.ok, "unreplayed": sorted(ids - set(done)),
                           "failure_records": len(ids)}


def checks(obs, run):
    r = obs.extra.get("replay", {})
    poison_pk = sample.pk_of(run, POISON[0])
    return [
        expect.failure_objects(obs, 1, spec="2.1"),
        *expect.isolated(obs, POISON),
        check("first replay succeeds and replays the failure record", ({"replayed": 1}, True),
              (r.get("first"), r.get("first_ok")), spec="issue 5"),
        check("afterwards no failure record remains unreplayed", [], r.get("unreplayed"), spec="issue 5"),
        check("the replayed order is projected", True, poison_pk in projected(run), spec="issue 5"),
        *sample.projected_once_in_order(obs, run)[1:],
        check("a second replay is a no-op (ledger)", ({"already-replayed": 1}, True),
              (r.get("second"), r.get("second_ok")), spec="issue 5"),
        sample.all_good_projected(obs, run, []),
        sample.archived(obs, run),
    ]


SCENARIO = Scenario(
    name="replay-after-fix",
    title="Replay after a fix projects the failed record exactly once",
    description="Order 4 (a refund: negative amount) is isolated into S3. A fixed consumer that accepts refunds is "
                "deployed and the failure object is replayed into it: the order is projected, no failure record "
                "remains unreplayed, every order is projected exactly once, and a second replay does nothing.",
    spec_sections=("2.1", "3.2", "3.5"),
    context=CONTEXT,
    items=tuple(orders(10, POISON, run='replay-after-fix')),
    poison=tuple(POISON),
    after=replay_after_fix,
    checks=checks,
    rules=(("failure objects are replayable: replay projects once, a second replay is a no-op", "3.5, 4"),),
)
