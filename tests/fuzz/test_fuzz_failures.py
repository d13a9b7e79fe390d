"""Bad input to the failure-record parsers (harness.failures): never an unhandled exception, always
FailureRecordError / KeyLayoutError with a message naming the field or quoting the key."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzkit import json_values, mutated  # type: ignore[import-not-found]
from harness.esm.destinations import FailureRecord as Written, build_envelope, s3_key
from harness.esm.records import make_record
from harness.failures import FailureRecordError, KeyLayoutError, parse_failure_record, parse_key

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-06-10T19:26:16.525"
SHARD = "shardId-00000001573689847184-864758bb"
UUID = "9c1b4ad3-5d5e-4d43-9a4e-1b2a3c4d5e6f"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid() -> tuple[dict, str]:
    records = [make_record(sequence_number=str(10**20 + i), arrival_s=1_700_000_000 + i,
                           new_image={"id": {"N": str(i)}}, keys={"pk": {"S": f"k{i}"}}, stream_arn=STREAM,
                           region="us-east-1", event_id=f"{i:032x}") for i in range(2)]
    env = build_envelope(request_id="3f1b6e0a-0000-4000-8000-000000000001",
                         function_arn="arn:aws:lambda:us-east-1:123456789012:function:consumer",
                         condition="RetryAttemptsExhausted", approximate_invoke_count=3, function_error="Unhandled",
                         executed_version="$LATEST", timestamp=1_700_000_100.123, shard_id=SHARD, records=records,
                         stream_arn=STREAM)
    body = json.loads(Written("arn:aws:s3:::b", UUID, SHARD, env, records).s3_body())
    return body, s3_key(UUID, SHARD, env["timestamp"])


VALID, KEY = _valid()


def test_the_base_document_is_valid():
    parsed = parse_failure_record(json.dumps(VALID), key=KEY)
    assert parsed.key is not None and parsed.key.layout == "esm" and len(parsed.records) == 2


@FUZZ
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200), json_values.map(json.dumps)))
def test_arbitrary_bodies(body):
    try:
        parse_failure_record(body)
    except FailureRecordError as exc:
        assert str(exc)


@FUZZ
@given(mutated(VALID))
def test_mutated_envelopes_fail_naming_the_field(case):
    doc, path, what = case
    try:
        parse_failure_record(json.dumps(doc), key=KEY)
    except FailureRecordError as exc:
        msg = str(exc)
        # The message names the top-level field at fault, or (payload) says what is wrong with it.
        named = {str(p) for p in path} | {"payload", "batchSize", "SequenceNumber", "Records", "not JSON"}
        assert any(n in msg for n in named), (path, what, msg)
    except ValueError as exc:  # pragma: no cover - would be a bug: only FailureRecordError is documented
        raise AssertionError(f"{type(exc).__name__} escaped for {path} ({what}): {exc}") from exc


@FUZZ
@given(st.one_of(st.text(max_size=120), st.from_regex(r"aws/lambda/[^/]{0,40}(/[^/]{0,20}){0,7}", fullmatch=True)))
def test_arbitrary_keys(key):
    try:
        parsed = parse_key(key)
    except KeyLayoutError as exc:
        assert repr(key) in str(exc) or key in str(exc)
    else:
        assert parsed.layout in ("esm", "async")


@FUZZ
@given(st.integers(min_value=0, max_value=len(KEY) - 1), st.one_of(st.characters(), st.sampled_from("0123456789")))
def test_keys_with_one_character_changed(i, ch):
    key = KEY[:i] + ch + KEY[i + 1:]
    try:
        parse_key(key)
    except KeyLayoutError as exc:
        assert repr(key) in str(exc)


def test_a_key_with_an_impossible_date_is_a_key_layout_error():
    """Found by the fuzzer: month 13 matched the pattern and escaped as strptime's ValueError."""
    bad = KEY.replace("/2023/11/14/2023-11-14T", "/2023/13/14/2023-13-14T")
    assert bad != KEY
    try:
        parse_key(bad)
    except KeyLayoutError as exc:
        assert "2023-13-14" in str(exc) and repr(bad) in str(exc)
    else:  # pragma: no cover
        raise AssertionError("month 13 accepted")
