"""Record age expiry in virtual time: MaximumRecordAgeInSeconds=60 ends an always-failing record
(spec 1 record age, 3.3, 9.3)."""

from _sample import checks as sample
from _sample.orders import orders
from harness.scenarios import expect
from harness.scenarios.model import Scenario
from harness.verdict import check

CONTEXT = {"batchSize": 10, "retryAttempts": 10, "bisect": True, "reportBatchItemFailures": False,
           "maxRecordAgeSeconds": 60}
POISON = [9]  # last in the batch: nothing queues behind it while it ages


def checks(obs, run):
    objs = obs.failure_objects
    poison_invokes = sum(1 for i in obs.invocations if i["records"] == POISON)
    return [
        expect.failure_objects(obs, 1, spec="3.3"),
        *expect.isolated(obs, POISON),
        *expect.envelope(obs, condition="RecordAgeExceeded", invoke_count=None, function_error=None,
                         response_context=False),
        check("age, not retries, ended it: 1 <= approximateInvokeCount < retries + 1", [True] * len(objs),
              [1 <= (o.approximate_invoke_count or 0) < CONTEXT["retryAttempts"] + 1 for o in objs], spec="1, 3.2"),
        check("8 invocations before 60 s of age end it (AWS-OBS count with the default backoff)", [8] * len(objs),
              [o.approximate_invoke_count for o in objs], spec="1 (retry cadence [GAP], AWS-OBS)"),
        check("approximateInvokeCount = invocations of the poison record alone", [poison_invokes] * len(objs),
              [o.approximate_invoke_count for o in objs], spec="3.2"),
        sample.all_good_projected(obs, run, POISON),
        sample.archived(obs, run),
    ]


SCENARIO = Scenario(
    name="record-age-expiry",
    title="Record age expiry (MaximumRecordAgeInSeconds=60) in virtual time",
    description="Ten orders, order 9 (last of the batch) always fails, 10 retries allowed but records may be at most 60 s old. The "
                "engine runs on a virtual clock with the default backoff, so the isolated poison is retried until "
                "it is older than 60 s and discarded with RecordAgeExceeded and no responseContext, without "
                "waiting a minute.",
    spec_sections=("1", "3.2", "3.3", "9.3"),
    context=CONTEXT,
    items=tuple(orders(10, POISON, run='record-age-expiry')),
    poison=tuple(POISON),
    clock="virtual",
    checks=checks,
    rules=(("MaximumRecordAgeInSeconds: RecordAgeExceeded, no responseContext", "1, 3.3"),),
)
