"""Listing and reading ESM failure objects from an S3 on-failure bucket (spec sections 3 and 4).

Why a store of its own: the S3 destination is the only place the full failed payload survives
past the stream's 24 h retention (spec 3.4, 8), so inspection and replay both start here, and
both must see every object: a malformed object is listed with the reason, never dropped.

Ownership: with `expected_owner` set, EVERY S3 call carries `ExpectedBucketOwner`, the guard AWS
recommends against bucket squatting (spec 5, `s3:ResourceAccount`). moto 5.2.5 ignores that
parameter (checked: ListObjectsV2, GetObject, HeadBucket and PutObjectTagging all succeed with a
wrong owner), so the store also compares the caller's account (STS) and the caller's own buckets
(ListBuckets): a bucket the caller owns must be owned by the expected account, and when the
caller is the expected account the bucket must be among its buckets. Only a bucket owned by a
third account is left to S3's own ExpectedBucketOwner check.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterator

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from harness.failures.checks import envelope_time
from harness.failures.keys import KeyLayoutError, parse_key
from harness.failures.model import CONDITIONS, FailureRecord, FailureRecordError, parse_failure_record

_DESERIALIZER = TypeDeserializer()
REPLAY_LEDGER_PREFIX = "replay-ledger/"  # harness.replay.ledger writes here, in the same bucket


class StoreError(RuntimeError):
    """The bucket or an object could not be read; the message names the bucket/key and why."""


class OwnershipError(StoreError):
    """The bucket is not owned by the expected account: the store refuses to read or write it."""


@dataclass(frozen=True)
class FailureFilters:
    """Which failure objects (and, with `match`, which records) an operator means.

    `since`/`until` bound the envelope timestamp (time of failure; LastModified for malformed
    objects); `function` is a function name or ARN; `match` maps attribute names to the string
    form of their value, compared against a DynamoDB record's Keys, NewImage and OldImage, or a
    Kinesis record's partitionKey and the top-level fields of its data (when the data is JSON).
    """

    since: datetime | None = None
    until: datetime | None = None
    condition: str | None = None
    shard: str | None = None
    function: str | None = None
    match: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.condition is not None and self.condition not in CONDITIONS:
            raise ValueError(f"condition {self.condition!r} is not one of {', '.join(CONDITIONS)} (spec 3.3)")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                object.__setattr__(self, name, value.replace(tzinfo=timezone.utc))


@dataclass
class Listed:
    """One object under the prefix: a parsed failure record, or a malformed object with the reason."""

    key: str
    last_modified: datetime
    size: int
    record: FailureRecord | None = None
    error: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.record is not None

    @property
    def timestamp(self) -> datetime:
        """Failure time: the envelope's, or LastModified when the object could not be parsed."""
        if self.record is None:
            return self.last_modified
        return parse_envelope_time(self.record.envelope.timestamp)

    def matching_records(self, match: dict[str, str]) -> list[dict[str, Any]]:
        if self.record is None:
            return []
        return [r for r in self.record.records if record_matches(r, match)]


def parse_envelope_time(stamp: str) -> datetime:
    """Any timestamp checks.py accepts: with or without milliseconds, up to 9 fraction digits."""
    when = envelope_time(stamp)
    if when is None:
        raise ValueError(f"envelope timestamp {stamp!r} is not ISO-8601 UTC like 2019-11-14T00:13:49.717Z")
    return when


def function_name_of(arn_or_name: str) -> str:
    """`arn:aws:lambda:r:a:function:name[:qualifier]` -> `name`; a bare name is returned as is."""
    parts = arn_or_name.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[5] == "function":
        return parts[6]
    return arn_or_name


def attribute_text(value: dict[str, Any]) -> str:
    """The string an operator would type for a DynamoDB attribute value (`pk=order#1`, `n=5`)."""
    plain = _DESERIALIZER.deserialize(value)
    if isinstance(plain, Decimal):
        return format(plain.normalize(), "f")
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if plain is None:
        return "null"
    if isinstance(plain, (bytes, bytearray)):
        return plain.decode("utf-8", "replace")
    if isinstance(plain, (str,)):
        return plain
    return json.dumps(plain, default=str, sort_keys=True)


def _kinesis_fields(record: dict[str, Any]) -> dict[str, str]:
    """A Kinesis record's matchable fields: partitionKey, and the data's top-level fields as text."""
    kin = record.get("kinesis") or {}
    out: dict[str, str] = {}
    try:
        data = json.loads(base64.b64decode(kin.get("data") or "", validate=True))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        for name, value in data.items():
            out[name] = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if isinstance(kin.get("partitionKey"), str):
        out["partitionKey"] = kin["partitionKey"]
    return out


def record_matches(record: dict[str, Any], match: dict[str, str]) -> bool:
    """True when every `name=value` pair is found in the record's Keys, NewImage or OldImage
    (DynamoDB), or in its partitionKey or data fields (Kinesis: `partitionKey=order-1`, `type=buy`)."""
    if not match:
        return True
    if "kinesis" in record:
        fields = _kinesis_fields(record)
        return all(name in fields and _text_equals(fields[name], wanted) for name, wanted in match.items())
    ddb = record.get("dynamodb") or {}
    for name, wanted in match.items():
        found = False
        for image in ("Keys", "NewImage", "OldImage"):
            attr = (ddb.get(image) or {}).get(name)
            if attr is None:
                continue
            try:
                if _value_equals(attr, wanted):
                    found = True
                    break
            except (TypeError, ValueError, ArithmeticError):
                continue
        if not found:
            return False
    return True


def _text_equals(text: str, wanted: str) -> bool:
    """Numbers compare by value (`7.5` matches `7.50`), everything else by its text."""
    if text == wanted:
        return True
    try:
        return Decimal(text) == Decimal(wanted)
    except ArithmeticError:
        return False


def _value_equals(attr: dict[str, Any], wanted: str) -> bool:
    """Numbers compare by value (`7.5` matches `7.50`), everything else by its text."""
    if "N" in attr:
        try:
            return Decimal(attr["N"]) == Decimal(wanted)
        except ArithmeticError:
            return False
    return attribute_text(attr) == wanted


def parse_match(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`["pk=order#1"]` -> `{"pk": "order#1"}`; only the first `=` splits, so values may hold `=`."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"match {pair!r} must look like attribute=value")
        out[name] = value
    return out


class FailureStore:
    """Read access to failure objects in one bucket, guarded by the expected owner when given."""

    def __init__(
        self,
        s3_client: Any,
        bucket: str,
        *,
        prefix: str = "aws/lambda/",
        expected_owner: str | None = None,
        sts_client: Any | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("bucket: a bucket name is required")
        if expected_owner is not None and not (expected_owner.isdigit() and len(expected_owner) == 12):
            raise ValueError(f"expected_owner {expected_owner!r} must be a 12-digit AWS account ID")
        self.s3 = s3_client
        self.bucket = bucket
        self.prefix = prefix
        self.expected_owner = expected_owner
        self._sts = sts_client
        self._owner_checked = False

    # -- ownership -------------------------------------------------------------------------

    def owner_kwargs(self) -> dict[str, str]:
        """Extra parameters for an S3 call on this bucket: `ExpectedBucketOwner` when an owner is set."""
        return {"ExpectedBucketOwner": self.expected_owner} if self.expected_owner else {}

    def verify_owner(self) -> None:
        """Refuse a bucket owned by another account; runs once, before the first read or write."""
        if self._owner_checked or self.expected_owner is None:
            self._owner_checked = True
            return
        self.call("head_bucket", Bucket=self.bucket)
        if self._sts is not None:
            try:
                caller = self._sts.get_caller_identity()["Account"]
            except (ClientError, BotoCoreError) as exc:
                raise StoreError(f"cannot tell which account is calling (STS GetCallerIdentity): {exc}") from None
            try:
                names = {b["Name"] for b in self.s3.list_buckets().get("Buckets", [])}
            except ClientError:
                names = None  # no s3:ListAllMyBuckets: rely on ExpectedBucketOwner alone
            # ListBuckets lists exactly the caller's own buckets, so it decides two cases:
            if names is not None and caller == self.expected_owner and self.bucket not in names:
                raise OwnershipError(
                    f"bucket {self.bucket!r} is not owned by account {self.expected_owner}: it is not among "
                    "that account's buckets (ListBuckets); refusing to read or write it"
                )
            if names is not None and caller != self.expected_owner and self.bucket in names:
                raise OwnershipError(
                    f"bucket {self.bucket!r} is not owned by account {self.expected_owner}: it belongs to the "
                    f"calling account {caller} (ListBuckets); refusing to read or write it"
                )
            # caller is not the owner and the bucket is not the caller's: a cross-account bucket,
            # which only S3's own ExpectedBucketOwner check (sent on every call) can confirm.
        self._owner_checked = True

    def call(self, operation: str, **params: Any) -> Any:
        """One S3 call with the owner guard and errors that name the bucket and key."""
        if operation != "head_bucket":
            self.verify_owner()
        params.update(self.owner_kwargs())
        try:
            return getattr(self.s3, operation)(**params)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            where = f"s3://{self.bucket}/{params['Key']}" if "Key" in params else f"bucket {self.bucket!r}"
            if self.expected_owner and (code in ("AccessDenied", "403") or status == 403):
                raise OwnershipError(
                    f"{where}: S3 refused the request with ExpectedBucketOwner={self.expected_owner} "
                    f"({code or status}); the bucket belongs to another account or access is denied"
                ) from None
            if code in ("NoSuchBucket", "404") and "Key" not in params:
                raise StoreError(f"bucket {self.bucket!r} does not exist") from None
            raise StoreError(f"{where}: {operation} failed: {code} {err.get('Message', '')}".rstrip()) from None
        except BotoCoreError as exc:
            raise StoreError(f"bucket {self.bucket!r}: {operation} failed: {exc}") from None

    # -- reading -----------------------------------------------------------------------------

    def iter_keys(self, prefix: str | None = None) -> Iterator[dict[str, Any]]:
        """Every object summary under the prefix, page by page."""
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix if prefix is None else prefix}
            if token:
                params["ContinuationToken"] = token
            page = self.call("list_objects_v2", **params)
            yield from page.get("Contents", [])
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def read_body(self, key: str) -> bytes:
        return self.call("get_object", Bucket=self.bucket, Key=key)["Body"].read()

    def get(self, key: str) -> Listed:
        """One object by key, parsed; a malformed one comes back with `error` set, never raised."""
        head = self.call("get_object", Bucket=self.bucket, Key=key)
        body = head["Body"].read()
        return self._parse(key, head["LastModified"], len(body), body)

    def list(self, filters: FailureFilters | None = None) -> list[Listed]:
        """Failure objects matching the filters, oldest failure first; malformed ones are kept.

        Malformed objects are filtered only by what can still be known about them (LastModified for
        the time range, the key's shard folder); everything else keeps them in view.
        """
        filters = filters or FailureFilters()
        out: list[Listed] = []
        for summary in self.iter_keys():
            key = summary["Key"]
            if key.endswith("/") or key.startswith(REPLAY_LEDGER_PREFIX):
                continue  # folders, and replay's own ledger when the prefix is wide enough to hold it
            if filters.shard and not _key_may_hold_shard(key, filters.shard):
                continue
            listed = self._parse(key, summary["LastModified"], summary.get("Size", 0), self.read_body(key))
            if _selected(listed, filters):
                out.append(listed)
        out.sort(key=lambda item: (item.timestamp, item.key))
        return out

    def tags(self, key: str) -> dict[str, str]:
        tagset = self.call("get_object_tagging", Bucket=self.bucket, Key=key).get("TagSet", [])
        return {t["Key"]: t["Value"] for t in tagset}

    def add_tag(self, key: str, name: str, value: str) -> None:
        """Add one tag, keeping the object's other tags (PutObjectTagging replaces the whole set)."""
        current = self.tags(key)
        current[name] = value
        self.call("put_object_tagging", Bucket=self.bucket, Key=key,
                  Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in current.items()]})

    def _parse(self, key: str, last_modified: datetime, size: int, body: bytes) -> Listed:
        try:
            record = parse_failure_record(body, key=key)
        except FailureRecordError as exc:
            return Listed(key=key, last_modified=last_modified, size=size, error=str(exc))
        return Listed(key=key, last_modified=last_modified, size=size, record=record)


def _key_may_hold_shard(key: str, shard: str) -> bool:
    try:
        parsed = parse_key(key)
    except KeyLayoutError:
        return True  # malformed key: keep it visible, its reason is shown
    return parsed.shard_id is None or parsed.shard_id == shard


def _selected(listed: Listed, f: FailureFilters) -> bool:
    when = listed.timestamp
    if f.since is not None and when < f.since:
        return False
    if f.until is not None and when > f.until:
        return False
    rec = listed.record
    if rec is None:
        return True
    env = rec.envelope
    if f.condition and env.requestContext.condition != f.condition:
        return False
    if f.shard and env.batch_info.shardId != f.shard:
        return False
    if f.function and function_name_of(env.requestContext.functionArn) != function_name_of(f.function):
        return False
    if f.match and not listed.matching_records(f.match):
        return False
    return True


__all__ = [
    "FailureFilters", "FailureStore", "Listed", "OwnershipError", "StoreError",
    "attribute_text", "function_name_of", "parse_envelope_time", "parse_match", "record_matches",
]
