"""S3 ObjectCreated -> Lambda delivery: event shape, filters, retries, and nothing ever lost."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.journal import Journal
from harness.notifications import (
    DELIVERED,
    FAILED,
    NotificationConfigError,
    NotificationService,
    NotificationTimeout,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:handler-fn"


def config(prefix: str | None = None, suffix: str | None = None, arn: str = ARN, **extra: Any) -> dict:
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v is not None]
    item: dict[str, Any] = {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"], **extra}
    if rules:
        item["Filter"] = {"Key": {"FilterRules": rules}}
    return {"LambdaFunctionConfigurations": [item]}


def service(backend: Any, invoker: Any, journal: Journal | None = None, **kw: Any) -> NotificationService:
    return NotificationService(s3_client=backend.client("s3"), invoker=invoker, journal=journal,
                               poll_interval_s=0.05, retry_backoff_s=0.01, **kw)


def test_put_object_triggers_exactly_one_invoke_with_aws_event_shape(backend: Any, invoker: Any, bucket: str) -> None:
    svc = service(backend, invoker)
    svc.configure(bucket, config())
    s3 = backend.client("s3")
    with svc:
        put = s3.put_object(Bucket=bucket, Key="aws/lambda/u 1/date=2024/obj", Body=b"hello")
        svc.drain(timeout=5)
        svc.drain(timeout=1)  # a second drain (and more polls) must not deliver it again
    assert len(invoker.calls) == 1
    name, payload = invoker.calls[0]
    assert name == "handler-fn"
    event = json.loads(payload)
    (record,) = event["Records"]
    assert record["eventVersion"] == "2.1" and record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1" and record["eventName"] == "ObjectCreated:Put"
    assert record["eventTime"].endswith("Z") and len(record["eventTime"]) == len("2024-01-01T00:00:00.000Z")
    s3_part = record["s3"]
    assert s3_part["s3SchemaVersion"] == "1.0" and s3_part["configurationId"]
    assert s3_part["bucket"]["name"] == bucket and s3_part["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert "principalId" in s3_part["bucket"]["ownerIdentity"]
    obj = s3_part["object"]
    assert obj["key"] == "aws/lambda/u+1/date%3D2024/obj"  # form-encoded like AWS, slashes kept
    assert obj["size"] == 5 and obj["eTag"] == put["ETag"].strip('"')
    assert isinstance(obj["sequencer"], str) and obj["sequencer"]
    (delivery,) = svc.deliveries()
    assert delivery.status == DELIVERED and delivery.attempts == 1


def test_prefix_and_suffix_filters(backend: Any, invoker: Any, bucket: str) -> None:
    svc = service(backend, invoker)
    svc.configure(bucket, config(prefix="aws/lambda/", suffix=".json"))
    s3 = backend.client("s3")
    for key in ("aws/lambda/a.json", "archive/aws/lambda/b.json", "aws/lambda/c.txt", "other.json"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    svc.drain(timeout=5)  # not started: drain delivers in the calling thread
    keys = [json.loads(p)["Records"][0]["s3"]["object"]["key"] for _, p in invoker.calls]
    assert keys == ["aws/lambda/a.json"]


def test_preexisting_objects_are_not_delivered_but_overwrites_are(backend: Any, invoker: Any, bucket: str) -> None:
    s3 = backend.client("s3")
    s3.put_object(Bucket=bucket, Key="old", Body=b"1")
    svc = service(backend, invoker)
    svc.configure(bucket, config())
    svc.drain(timeout=5)
    assert invoker.calls == []
    s3.put_object(Bucket=bucket, Key="old", Body=b"changed")
    s3.put_object(Bucket=bucket, Key="new", Body=b"2")
    svc.drain(timeout=5)
    assert sorted(json.loads(p)["Records"][0]["s3"]["object"]["key"] for _, p in invoker.calls) == ["new", "old"]


def test_function_error_is_retried_then_given_up_and_kept(backend: Any, invoker: Any, bucket: str) -> None:
    journal = Journal()
    invoker.script["handler-fn"] = ["error"] * 10
    svc = service(backend, invoker, journal)
    svc.configure(bucket, config())
    backend.client("s3").put_object(Bucket=bucket, Key="k", Body=b"x")
    with svc:
        svc.drain(timeout=5)
    assert len(invoker.calls) == 3  # AWS async default: 2 retries
    attempts = journal.entries("notification", bucket=bucket, key="k")
    assert [(e["attempt"], e["result"]) for e in attempts] == [(1, "function_error"), (2, "function_error"),
                                                               (3, "function_error")]
    (failed,) = journal.entries("notification_failed")
    assert failed["attempts"] == 3 and "boom" in failed["error"] and failed["function"] == "handler-fn"
    (delivery,) = svc.deliveries()
    assert delivery.status == FAILED and delivery.results == ["function_error"] * 3


def test_transient_failures_then_success(backend: Any, invoker: Any, bucket: str) -> None:
    journal = Journal()
    invoker.script["handler-fn"] = ["service", "error"]
    svc = service(backend, invoker, journal)
    svc.configure(bucket, config())
    backend.client("s3").put_object(Bucket=bucket, Key="k", Body=b"x")
    svc.drain(timeout=5)
    (delivery,) = svc.deliveries()
    assert delivery.status == DELIVERED and delivery.results == ["throttled", "function_error", "success"]
    assert not journal.entries("notification_failed")


def test_max_attempts_is_configurable_and_missing_function_is_not_retried(backend: Any, invoker: Any, bucket: str) -> None:
    invoker.script["handler-fn"] = ["error"] * 10
    invoker.script["gone"] = ["missing"] * 10
    svc = service(backend, invoker, max_attempts=1)
    svc.configure(bucket, {"LambdaFunctionConfigurations": [
        config()["LambdaFunctionConfigurations"][0],
        {"LambdaFunctionArn": "gone", "Events": ["s3:ObjectCreated:Put"]}]})
    backend.client("s3").put_object(Bucket=bucket, Key="k", Body=b"x")
    svc.drain(timeout=5)
    results = {d.function: (d.status, d.results) for d in svc.deliveries()}
    assert results == {"handler-fn": (FAILED, ["function_error"]), "gone": (FAILED, ["function_not_found"])}


def test_drain_times_out_naming_what_is_pending(backend: Any, invoker: Any, bucket: str) -> None:
    invoker.script["handler-fn"] = ["block"]
    svc = service(backend, invoker)
    svc.configure(bucket, config())
    backend.client("s3").put_object(Bucket=bucket, Key="slow", Body=b"x")
    with svc:
        with pytest.raises(NotificationTimeout, match=f"1 notification\\(s\\) pending: s3://{bucket}/slow -> handler-fn"):
            svc.drain(timeout=0.3)
        invoker.release.set()
        svc.drain(timeout=5)
    assert svc.deliveries()[0].status == DELIVERED


@pytest.mark.parametrize("bad, fragment", [
    ({"LambdaFunctionConfigurations": [{"Events": ["s3:ObjectCreated:*"]}]}, "LambdaFunctionConfigurations[0].LambdaFunctionArn"),
    ({"LambdaFunctionConfigurations": [{"LambdaFunctionArn": ARN, "Events": []}]}, "LambdaFunctionConfigurations[0].Events"),
    (config(Filter={"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}), "FilterRules[0].Name must be 'prefix' or 'suffix'"),
    ({"LambdaFunctionConfigurations": [{"LambdaFunctionArn": ARN, "Events": ["ObjectCreated"]}]}, "'ObjectCreated' is not an S3 event name"),
    ("nope", "NotificationConfiguration must be an object"),
])
def test_bad_configuration_names_the_field(backend: Any, invoker: Any, bucket: str, bad: Any, fragment: str) -> None:
    with pytest.raises(NotificationConfigError) as err:
        service(backend, invoker).configure(bucket, bad)
    assert f"bucket {bucket!r}" in str(err.value) and fragment in str(err.value)


def test_unknown_bucket_is_a_clear_error(backend: Any, invoker: Any) -> None:
    with pytest.raises(NotificationConfigError, match="bucket 'no-such-bucket-xyz' cannot be listed"):
        service(backend, invoker).configure("no-such-bucket-xyz", config())


def test_removal_events_are_noted_not_silently_dropped(backend: Any, invoker: Any, bucket: str) -> None:
    journal = Journal()
    service(backend, invoker, journal).configure(bucket, {"LambdaFunctionConfigurations": [
        {"LambdaFunctionArn": ARN, "Events": ["s3:ObjectRemoved:*"]}]})
    (note,) = journal.entries("notification_note")
    assert "s3:ObjectRemoved:*" in note["note"]


class _CountingS3:
    """The real client, recording the Prefix of every ListObjectsV2 page it serves."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.prefixes: list[str | None] = []

    def get_paginator(self, name: str) -> Any:
        real, prefixes = self._real.get_paginator(name), self.prefixes

        class _Pager:
            def paginate(self, **params: Any) -> Any:
                prefixes.append(params.get("Prefix"))
                return real.paginate(**params)

        return _Pager()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_scans_list_only_watched_prefixes_and_still_see_deletes(backend: Any, invoker: Any, bucket: str) -> None:
    s3 = backend.client("s3")
    counting = _CountingS3(s3)
    svc = NotificationService(s3_client=counting, invoker=invoker, poll_interval_s=0.05, retry_backoff_s=0.01)
    svc.configure(bucket, {"LambdaFunctionConfigurations": [
        {"LambdaFunctionArn": ARN, "Events": ["s3:ObjectCreated:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": p}]}}} for p in ("aws/lambda/", "aws/lambda/x/", "in/")]})
    counting.prefixes.clear()
    with svc:
        s3.put_object(Bucket=bucket, Key="archive/copy", Body=b"a")  # unwatched: never listed, never delivered
        s3.put_object(Bucket=bucket, Key="aws/lambda/x/1", Body=b"1")
        svc.drain(timeout=5)
        s3.delete_object(Bucket=bucket, Key="aws/lambda/x/1")
        svc.scan()
        s3.put_object(Bucket=bucket, Key="aws/lambda/x/1", Body=b"again")  # re-created: a new ObjectCreated
        svc.drain(timeout=5)
    assert set(counting.prefixes) == {"aws/lambda/", "in/"}  # aws/lambda/x/ is covered by aws/lambda/
    # Two rules match the key (one delivery each), and it was created twice; the archive copy never.
    assert [d.key for d in svc.deliveries()] == ["aws/lambda/x/1"] * 4
    assert len(invoker.calls) == 4


def test_reconfiguring_to_a_wider_prefix_does_not_notify_objects_that_already_existed(
        backend: Any, invoker: Any, bucket: str) -> None:
    s3 = backend.client("s3")
    svc = service(backend, invoker)
    svc.configure(bucket, config(prefix="aws/"))
    s3.put_object(Bucket=bucket, Key="old/object", Body=b"x")  # exists, unwatched, before the new configuration
    svc.configure(bucket, config(prefix=""))
    with svc:
        s3.put_object(Bucket=bucket, Key="new/object", Body=b"y")
        svc.drain(timeout=5)
    assert [d.key for d in svc.deliveries()] == ["new/object"]
