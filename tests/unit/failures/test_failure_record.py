"""The failure-record model against the spec's envelope (sections 3.2, 3.3, 3.5) and key layouts (section 4)."""

import json

import pytest

from harness.failures import FailureRecordError, KeyLayoutError, parse_failure_record, parse_key

UUID = "6d8a2a5e-1c8e-4b4e-9a55-0a1d2c3b4e5f"
RND = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
SHARD = "shardId-00000001573689847184-864758bb"


def _record(seq: str) -> dict:
    return {"eventID": "e" + seq, "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {"ApproximateCreationDateTime": 1573690399, "Keys": {"pk": {"S": "a"}},
                         "SequenceNumber": seq, "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2019-11-14T00:04:06.388"}


def _envelope(seqs=("800000000003126276362",), payload_as_string=True, **over) -> dict:
    payload = {"Records": [_record(s) for s in seqs]}
    env = {
        "requestContext": {"requestId": "r-1", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2019-11-14T00:13:49.717Z",
        "DDBStreamBatchInfo": {"shardId": SHARD, "startSequenceNumber": seqs[0], "endSequenceNumber": seqs[-1],
                               "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
                               "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z",
                               "batchSize": len(seqs),
                               "streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2019-11-14T00:04:06.388"},
        "payload": json.dumps(payload) if payload_as_string else payload,
    }
    env.update(over)
    return env


def test_section_3_2_valid_s3_envelope_with_string_payload_parses():
    key = f"aws/lambda/{UUID}/{SHARD}/2019/11/14/2019-11-14T00.13.49-{RND}"
    rec = parse_failure_record(json.dumps(_envelope(("1", "2"))), key=key)
    assert rec.sequence_numbers == ["1", "2"]
    assert rec.key.esm_uuid == UUID and rec.key.shard_id == SHARD
    assert not rec.payload_was_object and rec.notes == []


def test_section_3_5_object_payload_accepted_but_flagged():
    rec = parse_failure_record(_envelope(payload_as_string=False))
    assert rec.payload_was_object
    assert any("not AWS's" in n for n in rec.notes)


def test_section_3_4_metadata_only_sqs_sns_shape_is_accepted():
    env = _envelope()
    del env["payload"]
    rec = parse_failure_record(env)
    assert rec.records == [] and any("metadata only" in n for n in rec.notes)


def test_the_lambda_and_the_library_share_one_rule_set():
    """infra/bundle.py ships harness/failures/checks.py into the failure handler unchanged."""
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    sys.path.insert(0, str(root / "infra"))
    from bundle import SHARED

    assert SHARED["failure_handler"]["failure_record.py"] == root / "harness" / "failures" / "checks.py"
    assert not (root / "lambdas" / "failure_handler" / "failure_record.py").exists()


def test_section_3_2_batch_size_must_match_records():
    env = _envelope(("1", "2"))
    env["DDBStreamBatchInfo"]["batchSize"] = 3
    with pytest.raises(FailureRecordError, match="batchSize is 3 but payload holds 2"):
        parse_failure_record(env)


def test_section_3_2_start_sequence_must_be_first_record():
    env = _envelope(("1", "2"))
    env["DDBStreamBatchInfo"]["startSequenceNumber"] = "2"
    with pytest.raises(FailureRecordError, match="startSequenceNumber 2"):
        parse_failure_record(env)


def test_section_3_2_timestamp_without_milliseconds_is_noted():
    rec = parse_failure_record(_envelope(timestamp="2019-11-14T00:13:49Z"))
    assert any("no milliseconds" in n for n in rec.notes)
    with pytest.raises(FailureRecordError, match="timestamp must be ISO-8601"):
        parse_failure_record(_envelope(timestamp="14/11/2019"))


def test_section_3_2_timestamp_must_be_a_real_time():
    for stamp in ("2019-13-14T00:13:49.717Z", "2019-11-31T00:13:49.717Z", "2019-11-14T25:13:49Z"):
        with pytest.raises(FailureRecordError, match="not a real UTC date and time"):
            parse_failure_record(_envelope(timestamp=stamp))
    assert parse_failure_record(_envelope(timestamp="2019-11-14T00:13:49.717123456Z")).notes == []


def test_section_3_3_unknown_condition_is_named():
    env = _envelope()
    env["requestContext"]["condition"] = "RecordAgeExpired"
    with pytest.raises(FailureRecordError, match="requestContext.condition"):
        parse_failure_record(env)


@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b"{}"])
def test_foreign_objects_are_rejected_with_a_reason(body):
    with pytest.raises(FailureRecordError):
        parse_failure_record(body)


def test_section_4_esm_key_with_optional_json_suffix():
    k = parse_key(f"aws/lambda/{UUID}/{SHARD}/2019/11/14/2019-11-14T00.13.49-{RND}.json")
    assert k.layout == "esm" and k.has_json_suffix


def test_section_4_async_layout_is_parsed_and_noted():
    key = f"aws/lambda/async/my-fn/2019/11/14/2019-11-14T00.13.49-{RND}"
    assert parse_key(key).function_name == "my-fn"
    rec = parse_failure_record(_envelope(), key=key)
    assert any("async-invocation layout" in n for n in rec.notes)


@pytest.mark.parametrize("key", [
    "archive/x.json",
    f"aws/lambda/{UUID}/{SHARD}/2019/11/15/2019-11-14T00.13.49-{RND}",  # folder date disagrees with stamp
    f"aws/lambda/not-a-uuid/{SHARD}/2019/11/14/2019-11-14T00.13.49-{RND}",
])
def test_section_4_bad_keys_are_refused(key):
    with pytest.raises(KeyLayoutError):
        parse_key(key)
