"""Failure handler: reacts to ESM on-failure records landing in the failure bucket.

For every S3 ObjectCreated record it reads the object, judges it (failure_record.py), copies it
into the archive, and publishes an alert. It never deletes anything, and a malformed or
foreign object produces a "malformed" alert instead of an exception: S3 invokes this function
asynchronously, so raising on bad content would only burn retries on an object that will
never become valid. Infrastructure errors (SNS or S3 unavailable) are raised after every
record was tried, so Lambda's async retries can deliver the alert later (at-least-once:
a retry may repeat alerts for records of the same event that had already succeeded).

Configuration (environment):
- ALERT_TOPIC_ARN (required): SNS topic for alerts.
- ARCHIVE_PREFIX (default "archive/"): where copies go, in the same bucket. Must not be under
  aws/lambda/ (the bucket notification's filter), or archive writes would re-trigger this function.
- EXPECTED_BUCKET_OWNER (optional): account id passed as ExpectedBucketOwner on every S3 call,
  so a bucket re-created by someone else under the same name is never read or written.
- MAX_OBJECT_BYTES (default 16 MiB): larger objects are reported, not read (an ESM object is ~6 MB at most, spec §5).
- AUTO_REPLAY, AUTO_REPLAY_FUNCTION, AUTO_REPLAY_MAX_ATTEMPTS, AUTO_REPLAY_DELAY_SECONDS: the optional
  automatic replay policy, off by default (auto_replay.py).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
from typing import Any

import boto3

from auto_replay import AutoReplayPolicy, check_fits, policy_from_env, replay
from failure_record import FailureCheck, check_failure_object

WATCHED_PREFIX = "aws/lambda/"
DEFAULT_MAX_OBJECT_BYTES = 16 * 1024 * 1024
_clients: dict[tuple[str, str | None, str | None], Any] = {}


class ConfigError(RuntimeError):
    """The function's environment is wrong; the message names the variable."""


class DeliveryError(RuntimeError):
    """Alerting or archiving failed for at least one object; raised so Lambda retries the event."""


def _client(service: str) -> Any:
    key = (service, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION"))
    if key not in _clients:
        _clients[key] = boto3.client(service)
    return _clients[key]


def _log(**fields: Any) -> None:
    print(json.dumps(fields, default=str, sort_keys=True), file=sys.stdout, flush=True)


def _config() -> dict[str, Any]:
    topic = os.environ.get("ALERT_TOPIC_ARN", "").strip()
    if not topic:
        raise ConfigError("environment variable ALERT_TOPIC_ARN is not set")
    prefix = os.environ.get("ARCHIVE_PREFIX", "archive/").strip() or "archive/"
    if not prefix.endswith("/"):
        prefix += "/"
    if prefix.startswith(WATCHED_PREFIX):
        raise ConfigError(f"environment variable ARCHIVE_PREFIX={prefix!r} is under {WATCHED_PREFIX!r}: archive writes would re-trigger this function")
    raw_max = os.environ.get("MAX_OBJECT_BYTES", str(DEFAULT_MAX_OBJECT_BYTES))
    try:
        max_bytes = int(raw_max)
    except ValueError:
        max_bytes = 0
    if max_bytes < 1:
        # 0 or less would report every object as too large and archive none of them.
        raise ConfigError(f"environment variable MAX_OBJECT_BYTES must be a positive integer (got {raw_max!r})")
    return {"topic": topic, "prefix": prefix, "owner": os.environ.get("EXPECTED_BUCKET_OWNER", "").strip() or None,
            "max_bytes": max_bytes}


def _error_code(exc: Exception) -> str:
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")


def archive_key(prefix: str, condition: str, date: str, key: str) -> str:
    """Archive layout: <prefix>condition=<c>/date=<YYYY-MM-DD>/<key with / replaced by _> (flat, Hive-style partitions)."""
    return f"{prefix}condition={condition}/date={date}/{key.replace('/', '_')}"


def _function_name(arn: object) -> str | None:
    if isinstance(arn, str) and ":function:" in arn:
        return arn.split(":function:", 1)[1].split(":", 1)[0]
    return None


def _subject(text: str) -> str:
    """SNS subjects: ASCII, no line breaks, under 100 characters."""
    clean = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return clean[:99]


def build_alert(bucket: str, check: FailureCheck, archived_to: str | None) -> tuple[str, dict[str, Any]]:
    """The SNS subject and message for one judged object."""
    info, ctx = check.batch_info, check.request_context
    function = _function_name(ctx.get("functionArn"))
    message: dict[str, Any] = {
        "kind": "failure" if check.valid else "malformed",
        "function": function,
        "functionArn": ctx.get("functionArn"),
        "condition": check.condition,
        "shard": info.get("shardId"),
        "sequenceRange": {"start": info.get("startSequenceNumber"), "end": info.get("endSequenceNumber")},
        "batchSize": info.get("batchSize"),
        "invokeCount": ctx.get("approximateInvokeCount"),
        "timestamp": (check.envelope or {}).get("timestamp"),
        "streamArn": info.get("streamArn"),
        "bucket": bucket,
        "key": check.key,
        "archiveKey": archived_to,
        "problems": check.problems,
        "notes": check.notes,
    }
    if check.valid:
        subject = f"ESM failure: {function} {check.condition} {info.get('batchSize')} record(s) on {info.get('shardId')}"
    else:
        subject = f"Malformed failure object: {check.problems[0]}"
    return _subject(subject), message


def _read(s3: Any, bucket: str, key: str, cfg: dict[str, Any], check: FailureCheck) -> bytes | None:
    owner = {"ExpectedBucketOwner": cfg["owner"]} if cfg["owner"] else {}
    try:
        head = s3.head_object(Bucket=bucket, Key=key, **owner)
        if head.get("ContentLength", 0) > cfg["max_bytes"]:
            check.problems.append(f"object is {head['ContentLength']} bytes, over MAX_OBJECT_BYTES={cfg['max_bytes']}")
            return None
        return s3.get_object(Bucket=bucket, Key=key, **owner)["Body"].read()
    except Exception as exc:
        if _error_code(exc) in ("NoSuchKey", "404", "NotFound"):
            check.problems.append("object no longer exists (deleted before it could be read)")
            return None
        raise


def _archive(s3: Any, bucket: str, key: str, target: str, cfg: dict[str, Any]) -> None:
    owner = {"ExpectedBucketOwner": cfg["owner"], "ExpectedSourceBucketOwner": cfg["owner"]} if cfg["owner"] else {}
    s3.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key},
                   MetadataDirective="COPY", **owner)


def handle_object(bucket: str, key: str, event_date: str, cfg: dict[str, Any],
                  policy: AutoReplayPolicy | None = None) -> dict[str, Any]:
    """Judge, archive, optionally auto-replay, and alert one object; infrastructure errors propagate."""
    s3, sns = _client("s3"), _client("sns")
    check = FailureCheck(key=key)
    body = _read(s3, bucket, key, cfg, check)
    if body is not None:
        check = check_failure_object(key, body)
    target = None
    if check.valid:
        target = archive_key(cfg["prefix"], check.condition or "unknown", check.date or event_date, key)
    elif body is not None:
        target = archive_key(cfg["prefix"], "malformed", event_date, key)
    if target:
        _archive(s3, bucket, key, target, cfg)
    replayed = None
    if policy is not None and check.valid and check.records:
        replayed = replay(policy, check.records, _client("lambda"))
        try:
            _tag(s3, bucket, key, "harness-auto-replay", replayed["outcome"], cfg)
        except Exception as exc:  # the tag is a label; the replay already ran and the alert must still go
            # Raising here would make Lambda retry the event: the batch replayed again, and still no
            # alert while tagging keeps failing (e.g. s3:PutObjectTagging missing from the role).
            replayed["tagError"] = f"{type(exc).__name__}: {exc}"
            _log(event="tag_failed", bucket=bucket, key=key, error=replayed["tagError"])
    subject, message = build_alert(bucket, check, target)
    if replayed is not None:
        message["autoReplay"] = replayed
        if replayed["outcome"] == "succeeded":
            message["kind"] = "auto-replayed"
            subject = _subject(f"Auto-replayed: {subject}")
        else:
            subject = _subject(f"Auto-replay gave up after {replayed['attempts']} attempt(s): {subject}")
    sns.publish(TopicArn=cfg["topic"], Subject=subject, Message=json.dumps(message, sort_keys=True))
    _log(event="failure_object", bucket=bucket, key=key, kind=message["kind"], archiveKey=target,
         problems=check.problems, notes=check.notes)
    return {"bucket": bucket, "key": key, "kind": message["kind"], "archiveKey": target, "problems": check.problems,
            "notes": check.notes}


def _tag(s3: Any, bucket: str, key: str, name: str, value: str, cfg: dict[str, Any]) -> None:
    """Add one tag, keeping the object's others (PutObjectTagging replaces the whole set)."""
    owner = {"ExpectedBucketOwner": cfg["owner"]} if cfg["owner"] else {}
    tags = s3.get_object_tagging(Bucket=bucket, Key=key, **owner).get("TagSet", [])
    tags = [t for t in tags if t.get("Key") != name] + [{"Key": name, "Value": value}]
    s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": tags}, **owner)


def _s3_location(record: Any) -> tuple[str, str] | None:
    """(bucket, decoded key) of an S3 notification record, or None when it is not one."""
    try:
        bucket, key = record["s3"]["bucket"]["name"], record["s3"]["object"]["key"]
    except (TypeError, KeyError):
        return None
    if not isinstance(bucket, str) or not isinstance(key, str):
        return None
    return bucket, urllib.parse.unquote_plus(key)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Entry point for S3 ObjectCreated notifications (possibly several records per event)."""
    cfg = _config()
    policy = policy_from_env()
    if policy is not None:
        remaining = context.get_remaining_time_in_millis() if hasattr(context, "get_remaining_time_in_millis") else None
        check_fits(policy, remaining)
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        _log(event="ignored", reason="event has no Records list", eventKeys=sorted(event) if isinstance(event, dict) else None)
        return {"results": [], "ignored": 1}
    results: list[dict[str, Any]] = []
    errors: list[str] = []
    ignored = 0
    for record in records:
        location = _s3_location(record)
        name = record.get("eventName") if isinstance(record, dict) else ""
        name = name if isinstance(name, str) else ""
        if location is None:
            _log(event="ignored", reason="record is not an S3 notification record", eventName=name)
            ignored += 1
            continue
        bucket, key = location
        if not name.startswith("ObjectCreated:") or key.startswith(cfg["prefix"]) or not key.startswith(WATCHED_PREFIX):
            # Defence in depth against loops: the notification filter should already exclude these.
            _log(event="ignored", reason="not an ObjectCreated event under the watched prefix", key=key, eventName=name)
            ignored += 1
            continue
        event_time = record.get("eventTime")
        event_date = event_time[:10] if isinstance(event_time, str) and len(event_time) >= 10 else "unknown"
        try:
            results.append(handle_object(bucket, key, event_date, cfg, policy))
        except Exception as exc:
            _log(event="delivery_failed", bucket=bucket, key=key, error=f"{type(exc).__name__}: {exc}")
            errors.append(f"s3://{bucket}/{key}: {type(exc).__name__}: {exc}")
    if errors:
        raise DeliveryError(f"{len(errors)} object(s) could not be alerted/archived: " + "; ".join(errors))
    return {"results": results, "ignored": ignored}
