"""The failure handler inside the deployed stack: malformed objects and the auto-replay policy."""

import json

import pytest

from _sample.orders import orders
from harness.pipeline import LocalPipeline
from harness.scenarios.observe import subscribe_alert_inbox


def _alerts(pipe: LocalPipeline, url: str) -> list[dict]:
    sqs = pipe.backend.client("sqs")
    out = []
    while msgs := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in msgs:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


@pytest.mark.timeout(300)
def test_malformed_object_in_the_failure_bucket_is_alerted_not_crash_looped(tmp_path):
    with LocalPipeline(journal_path=tmp_path / "j.jsonl") as pipe:
        pipe.deploy({})
        inbox = subscribe_alert_inbox(pipe)
        bucket = pipe.output("FailureBucketName")
        key = "aws/lambda/not-an-esm-record"
        pipe.backend.client("s3").put_object(Bucket=bucket, Key=key, Body=b"{\"hello\": \"world\"}")
        pipe.settle(timeout=60)
        [alert] = _alerts(pipe, inbox)
        assert alert["kind"] == "malformed" and alert["key"] == key and alert["problems"]
        handler = pipe.output("FailureHandlerFunctionName")
        invokes = pipe.journal.entries("runtime_invoke", function=handler)
        assert [e["function_error"] for e in invokes] == [None]  # once, no error, so no async retries
        keys = [o["Key"] for o in pipe.backend.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
        assert key in keys  # never deleted
        assert [k for k in keys if k.startswith("archive/condition=malformed/")]


@pytest.mark.timeout(300)
def test_auto_replay_reaches_the_consumer_through_the_local_lambda_api_and_gives_up(tmp_path):
    """Lambda-to-Lambda: the handler's boto3 Invoke must reach the local runtime (AWS_ENDPOINT_URL_LAMBDA)."""
    context = {"batchSize": 1, "retryAttempts": 0, "autoReplay": True, "autoReplayMaxAttempts": 2,
               "autoReplayDelaySeconds": 0}
    with LocalPipeline(journal_path=tmp_path / "j.jsonl") as pipe:
        pipe.deploy(context, start_polling=False)
        inbox = subscribe_alert_inbox(pipe)
        pipe.inject(orders(1, poison=[0], run="auto"), table=pipe.output("SourceTableName"))
        pipe.start_polling()
        pipe.settle(timeout=120)
        consumer = pipe.output("ConsumerFunctionName")
        # 1 ESM delivery (retries 0) + 2 auto-replay attempts, all failing on the poison order.
        assert len(pipe.journal.entries("runtime_invoke", function=consumer)) == 3
        [alert] = _alerts(pipe, inbox)
        assert alert["autoReplay"]["outcome"] == "exhausted" and alert["autoReplay"]["attempts"] == 2
        tags = pipe.backend.client("s3").get_object_tagging(Bucket=pipe.output("FailureBucketName"),
                                                            Key=alert["key"])["TagSet"]
        assert {"Key": "harness-auto-replay", "Value": "exhausted"} in tags
