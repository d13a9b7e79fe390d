"""FailureStore: listing, filters, malformed objects kept with reasons, owner guard (spec 3, 4, 5)."""

from __future__ import annotations

import json
import boto3
import pytest

from replay_objects import BUCKET, SHARD, put_failure, stream_record
from harness.failures.store import FailureFilters, FailureStore, OwnershipError, StoreError, parse_match


def _store(aws, **kw):
    return FailureStore(aws.client("s3"), BUCKET, **kw)


def test_list_parses_objects_oldest_first_with_records(aws, minutes):
    s3 = aws.client("s3")
    late = put_failure(s3, [stream_record(20, "order#2")], when=minutes(5))
    early = put_failure(s3, [stream_record(10, "order#1"), stream_record(11, "order#1", "MODIFY")], when=minutes(1))
    listed = _store(aws).list()
    assert [x.key for x in listed] == [early, late]
    assert all(x.ok for x in listed)
    assert listed[0].record.sequence_numbers == [str(10).rjust(21, "0"), str(11).rjust(21, "0")]


def test_list_and_time_filters_accept_every_timestamp_the_checks_accept(aws, minutes):
    """Spec 3.2: a timestamp without milliseconds (noted) or with nanoseconds is still a failure
    record; listing sorted and filtered it with a millisecond-only format and raised ValueError."""
    s3 = aws.client("s3")
    keys = []
    for n, stamp in ((3, "2024-06-10T20:03:00Z"), (1, "2024-06-10T20:01:00.123456789Z"), (2, None)):
        key = put_failure(s3, [stream_record(n, f"order#{n}")], when=minutes(n))
        if stamp:
            body = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
            body["timestamp"] = stamp
            s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body, sort_keys=True).encode())
        keys.append(key)
    listed = _store(aws).list(FailureFilters(since=minutes(1)))
    assert [x.key for x in listed] == [keys[1], keys[2], keys[0]]
    assert all(x.ok for x in listed)
    assert listed[0].timestamp.microsecond == 123456


def test_section_3_malformed_objects_are_listed_with_reasons_not_dropped(aws):
    s3 = aws.client("s3")
    good = put_failure(s3, [stream_record(1, "a")])
    s3.put_object(Bucket=BUCKET, Key=good.rsplit("/", 1)[0] + "/not-a-failure-key", Body=b"{}")
    bad_json = good[:-36] + "00000000-0000-4000-8000-000000000000"
    s3.put_object(Bucket=BUCKET, Key=bad_json, Body=b"not json")
    listed = {x.key: x for x in _store(aws).list()}
    assert len(listed) == 3
    assert listed[good].ok
    assert "not JSON" in listed[bad_json].error
    others = [x for k, x in listed.items() if k.endswith("not-a-failure-key")]
    assert others and not others[0].ok and "requestContext" in others[0].error


def test_filters_time_condition_shard_function_and_match(aws, minutes):
    s3 = aws.client("s3")
    k1 = put_failure(s3, [stream_record(1, "order#1")], when=minutes(1))
    k2 = put_failure(s3, [stream_record(2, "order#2")], when=minutes(2), condition="RecordAgeExceeded")
    k3 = put_failure(s3, [stream_record(3, "order#3", extra={"amount": {"N": "7.50"}})], when=minutes(3),
                     shard="shardId-00000001573689847184-aaaaaaaa", function="other")
    store = _store(aws)

    def keys(**kw):
        return [x.key for x in store.list(FailureFilters(**kw))]

    assert keys(since=minutes(2)) == [k2, k3]
    assert keys(until=minutes(2)) == [k1, k2]
    assert keys(since=minutes(2), until=minutes(2)) == [k2]
    assert keys(condition="RecordAgeExceeded") == [k2]
    assert keys(shard=SHARD) == [k1, k2]
    assert keys(function="other") == [k3]
    assert keys(function="arn:aws:lambda:us-east-1:123456789012:function:consumer") == [k1, k2]
    assert keys(match={"pk": "order#2"}) == [k2]
    assert keys(match={"amount": "7.5"}) == [k3]  # numbers compare by value, as typed
    assert keys(match={"amount": "7.500"}) == [k3]
    assert keys(match={"pk": "order#2", "status": "new"}) == [k2]
    assert keys(match={"pk": "nope"}) == []


def test_filter_rejects_unknown_condition_naming_it():
    with pytest.raises(ValueError, match="condition 'RecordAgeExpired'"):
        FailureFilters(condition="RecordAgeExpired")


def test_parse_match_splits_on_first_equals_and_names_bad_pairs():
    assert parse_match(["pk=order#1=x"]) == {"pk": "order#1=x"}
    with pytest.raises(ValueError, match="'pk'"):
        parse_match(["pk"])


def test_get_shows_one_object_and_missing_key_is_named(aws):
    key = put_failure(aws.client("s3"), [stream_record(1, "a")])
    got = _store(aws).get(key)
    assert got.ok and got.record.condition == "RetryAttemptsExhausted"
    with pytest.raises(StoreError, match="aws/lambda/missing"):
        _store(aws).get("aws/lambda/missing")


def test_missing_bucket_is_a_clear_error(aws):
    with pytest.raises(StoreError, match="bucket 'no-such-bucket'"):
        FailureStore(aws.client("s3"), "no-such-bucket").list()


class _Recorder:
    """Wraps an S3 client and records every call's parameters."""

    def __init__(self, s3):
        self.s3, self.calls = s3, []

    def __getattr__(self, name):
        fn = getattr(self.s3, name)

        def call(**params):
            self.calls.append((name, params))
            return fn(**params)
        return call


def test_section_5_expected_bucket_owner_on_every_s3_call(aws):
    s3 = aws.client("s3")
    key = put_failure(s3, [stream_record(1, "a")])
    rec = _Recorder(s3)
    store = FailureStore(rec, BUCKET, expected_owner="123456789012", sts_client=aws.client("sts"))
    store.list()
    store.get(key)
    store.add_tag(key, "t", "v")
    bucket_calls = [(n, p) for n, p in rec.calls if "Bucket" in p]
    assert {n for n, _ in bucket_calls} >= {"head_bucket", "list_objects_v2", "get_object",
                                            "get_object_tagging", "put_object_tagging"}
    assert all(p.get("ExpectedBucketOwner") == "123456789012" for _, p in bucket_calls)


def test_section_5_foreign_owned_bucket_is_refused(aws):
    # moto 5.2.5 ignores ExpectedBucketOwner; the store's ListBuckets check must catch it.
    other = boto3.client("s3", endpoint_url=aws.endpoint_url, region_name="us-east-1",
                         aws_access_key_id="testing", aws_secret_access_key="testing")
    other.meta.events.register("before-sign.s3.*",
                               lambda request, **_: request.headers.__setitem__("x-moto-account-id", "111111111111"))
    other.create_bucket(Bucket="squatted-bucket")
    other.put_object(Bucket="squatted-bucket", Key="aws/lambda/x", Body=b"{}")
    store = FailureStore(aws.client("s3"), "squatted-bucket", expected_owner="123456789012",
                         sts_client=aws.client("sts"))
    with pytest.raises(OwnershipError, match="'squatted-bucket' is not owned by account 123456789012"):
        store.list()
    # the own bucket passes the same check
    assert FailureStore(aws.client("s3"), BUCKET, expected_owner="123456789012",
                        sts_client=aws.client("sts")).list() == []


def test_access_denied_with_owner_becomes_ownership_error():
    from botocore.exceptions import ClientError

    class Denying:
        def head_bucket(self, **params):
            assert params["ExpectedBucketOwner"] == "222222222222"
            raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"},
                               "ResponseMetadata": {"HTTPStatusCode": 403}}, "HeadBucket")

    with pytest.raises(OwnershipError, match="ExpectedBucketOwner=222222222222"):
        FailureStore(Denying(), "b", expected_owner="222222222222").list()


def test_expected_owner_must_be_an_account_id():
    with pytest.raises(ValueError, match="expected_owner 'abc'"):
        FailureStore(object(), "b", expected_owner="abc")


def test_object_payload_shape_is_accepted_and_noted(aws):
    s3 = aws.client("s3")
    key = put_failure(s3, [stream_record(1, "a")])
    body = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    body["payload"] = json.loads(body["payload"])
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body).encode())
    got = _store(aws).get(key)
    assert got.ok and got.record.payload_was_object
