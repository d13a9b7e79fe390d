"""Faults on the real deployed stack (infra/ + lambdas/ on the embedded backend):

- the failure bucket deleted mid-run: spec 7.3 [GAP], the harness default: the write fails,
  DestinationDeliveryFailures counts it, the records are dropped *with a journal entry*, the
  shard goes on; conservation still holds (projected + in S3 + dropped = injected).
- the alert topic gone when the failure handler runs: the S3 notification's invoke fails
  (a real function error from the real handler), is retried, and succeeds once the topic is back.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from faultkit import wait_until  # type: ignore[import-not-found]
from harness.esm import EngineSettings
from harness.esm.config import Backoff
from _sample.orders import orders
from harness.notifications import NotificationService
from harness.pipeline import LocalPipeline

pytestmark = pytest.mark.timeout(120)

CONTEXT = {"batchSize": 10, "retryAttempts": 0, "bisect": True, "reportBatchItemFailures": False}
FAST = EngineSettings(backoff=Backoff(0.05, 2.0, 0.2))


def _keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    out: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.extend(o["Key"] for o in page.get("Contents", []))
    return out


def _projected(pipe: LocalPipeline) -> set[str]:
    ddb = pipe.backend.client("dynamodb")
    pks: set[str] = set()
    for page in ddb.get_paginator("scan").paginate(TableName=pipe.output("ProjectionTableName")):
        pks.update(i["pk"]["S"] for i in page["Items"])
    return pks


def test_failure_bucket_deleted_mid_run_is_counted_dropped_and_accounted(tmp_path):
    with LocalPipeline("embedded", journal_path=tmp_path / "journal.jsonl", esm_settings=FAST) as pipe:
        pipe.deploy(CONTEXT)
        s3 = pipe.backend.client("s3")
        bucket = pipe.output("FailureBucketName")
        uuid = pipe.output("EventSourceMappingId")

        first = orders(10, poison=[3], run="before")
        pipe.inject(first, table=pipe.output("SourceTableName"))
        pipe.settle(timeout=60)
        kept = {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in _keys(s3, bucket, "aws/lambda/")}
        assert len(kept) == 1, "the first poison record reached the bucket"

        # The fault: the bucket disappears (emptied first, as S3 requires; its objects are kept above).
        for key in _keys(s3, bucket):
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)
        pipe.journal.record("fault_injected", fault="failure bucket deleted", bucket=bucket)

        second = orders(10, poison=[6], run="after")
        pipe.inject(second, table=pipe.output("SourceTableName"))
        pipe.esm.drain(timeout=60)
        metrics = pipe.esm.metrics(uuid)
        projected = _projected(pipe)
        journal = pipe.journal

    assert metrics["DestinationDeliveryFailures"] == 1
    assert metrics["DroppedEventCount"] == 1 and metrics["OnFailureDestinationDeliveredEventCount"] == 1
    [failure] = journal.entries("destination_failure")
    assert "NoSuchBucket" in failure["error"] and bucket in failure["destination"]
    [dropped] = journal.entries("dropped")
    assert dropped["reason"] == "destination delivery failed" and dropped["condition"] == "RetryAttemptsExhausted"
    assert dropped["sequence_numbers"] == failure["sequence_numbers"]
    # The shard was not blocked (spec 7.3 default): the checkpoint moved past the dropped record
    # and every good order after it was projected.
    assert journal.entries("checkpoint", reason="dropped")[-1]["sequence_number"] == dropped["sequence_numbers"][-1]
    good = {o["pk"] for o in first + second if o["amount"] > 0}
    assert good <= projected
    # Conservation: injected = projected + in the failure record kept from S3 + dropped.
    in_s3 = [json.loads(body) for body in kept.values()]
    assert sum(e["DDBStreamBatchInfo"]["batchSize"] for e in in_s3) == 1
    injected = len(journal.entries("injected"))
    assert injected == 20
    assert injected == len(projected & {o["pk"] for o in first + second}) + 1 + len(dropped["sequence_numbers"])
    # The notification poller noticed the bucket was gone, and said so once.
    assert [e for e in journal.entries("notification_poll_error") if e["bucket"] == bucket]
    # The journal file on disk carries the same story.
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert kinds.index("fault_injected") < kinds.index("destination_failure") < kinds.index("dropped")


def test_failure_handler_notification_fails_then_is_retried_and_delivered(tmp_path):
    with LocalPipeline("embedded", journal_path=tmp_path / "journal.jsonl", esm_settings=FAST) as pipe:
        # A slower retry cadence than the default, so the test can repair the fault in between.
        pipe.notifications = NotificationService(s3_client=pipe.backend.client("s3"), invoker=pipe.runtime,
                                                 journal=pipe.journal, region=pipe.backend.region,
                                                 poll_interval_s=0.1, max_attempts=3, retry_backoff_s=1.5)
        pipe.deploy(CONTEXT)
        sns = pipe.backend.client("sns")
        topic_arn = pipe.output("AlertTopicArn")
        handler = pipe.output("FailureHandlerFunctionName")
        sns.delete_topic(TopicArn=topic_arn)
        pipe.journal.record("fault_injected", fault="alert topic deleted", topic=topic_arn)

        pipe.inject(orders(5, poison=[2], run="notify"), table=pipe.output("SourceTableName"))
        pipe.journal.wait_for(lambda es: [e for e in es if e["kind"] == "notification" and e["result"] != "success"],
                              timeout=60, what="the first failed notification attempt")
        name = topic_arn.rsplit(":", 1)[1]
        assert sns.create_topic(Name=name)["TopicArn"] == topic_arn
        pipe.journal.record("fault_repaired", fault="alert topic re-created", topic=topic_arn)
        pipe.settle(timeout=60)
        deliveries = pipe.notifications.deliveries()
        bucket = pipe.output("FailureBucketName")
        archived = _keys(pipe.backend.client("s3"), bucket, "archive/")
        journal = pipe.journal

    attempts = journal.entries("notification", function=handler)
    assert [a["result"] for a in attempts][0] == "function_error"
    assert "NotFound" in attempts[0]["error"] or "Topic" in attempts[0]["error"]
    assert attempts[-1]["result"] == "success" and attempts[-1]["attempt"] >= 2
    assert len({a["key"] for a in attempts}) == 1, "one failure object, retried, not duplicated"
    [d] = deliveries
    assert d.status == "delivered" and d.attempts == attempts[-1]["attempt"]
    assert not journal.entries("notification_failed")
    # The real handler ran each time; the failed attempts are visible in its own logs too.
    runs = journal.entries("runtime_invoke", function=handler)
    assert [r["function_error"] for r in runs][-1] is None and runs[0]["function_error"] == "Unhandled"
    assert len(archived) == 1, "the archive copy is idempotent across the retries"
