"""The S3 destination refuses the write: DestinationDeliveryFailures, shard moves on, records
dropped (spec 7.2, 7.3 [GAP] default, 9.8)."""

import json

from _sample import checks as sample
from _sample.orders import orders
from harness.scenarios import expect
from harness.scenarios.model import Scenario
from harness.verdict import check

CONTEXT = {"batchSize": 10, "retryAttempts": 2, "bisect": True, "reportBatchItemFailures": False}
POISON = [4]


def deny_destination_writes(run):
    """A bucket policy Deny on s3:PutObject under aws/lambda/ (moto enforces bucket policies)."""
    bucket = run.pipe.output("FailureBucketName")
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "ScenarioDenyFailureRecords", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/aws/lambda/*"}]}
    run.pipe.backend.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    run.facts["bucket_policy"] = "Deny s3:PutObject on aws/lambda/*"


def checks(obs, run):
    dropped = [d for d in obs.dropped if d["reason"] == "destination delivery failed"]
    return [
        expect.failure_objects(obs, 0, why="the bucket refuses writes", spec="7.3"),
        check("DestinationDeliveryFailures counted once (journal)", 1, obs.destination_failures, spec="7.2"),
        check("DestinationDeliveryFailures metric = 1", 1, obs.metrics.get("DestinationDeliveryFailures", 0),
              spec="7.2"),
        check("the poison record is accounted as dropped", [POISON], [d["records"] for d in dropped], spec="7.3"),
        check("DroppedEventCount metric counts it", 1, obs.metrics.get("DroppedEventCount", 0), spec="7.2, 7.3"),
        check("the shard moves on: records after the poison are processed", list(range(5, 10)),
              [i for i in obs.processed if i > 4], spec="7.3"),
        sample.all_good_projected(obs, run, POISON),
        sample.archived(obs, run),
    ]


SCENARIO = Scenario(
    name="destination-unavailable",
    title="Destination unavailable: delivery failure counted, shard moves on",
    description="A bucket policy denies s3:PutObject on the failure prefix. The isolated poison cannot be written: "
                "DestinationDeliveryFailures is incremented, the record is accounted as dropped, and the shard is "
                "not blocked (the spec 7.3 [GAP] default).",
    spec_sections=("7.2", "7.3", "9.8"),
    context=CONTEXT,
    items=tuple(orders(10, POISON, run='destination-unavailable')),
    poison=tuple(POISON),
    destination_available=False,
    prepare=deny_destination_writes,
    checks=checks,
    rules=(("destination delivery failure: counted, records dropped, shard not blocked", "7.2, 7.3"),),
)
