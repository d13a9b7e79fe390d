"""Failure objects recorded from AWS (tests/fixtures/recorded, written by `--record`) against the
envelope rules (spec 3.2, 3.3, 3.5) and the key layout (spec 4).

These are the evidence for what the spec takes from documentation and AWS-OBS snapshots: when a
recorded body disagrees with harness/failures, the harness is what is wrong. No file is made up
here; with none recorded the test skips and says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.failures import parse_failure_record
from harness.failures.checks import check_failure_object
from harness.scenarios.record import PLACEHOLDER_ACCOUNT, RecordError, load_fixture, record_failure_object

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "recorded"
FILES = sorted(RECORDED.glob("**/*.json"))
PARAMS = [pytest.param(p, id=str(p.relative_to(RECORDED))) for p in FILES] or [pytest.param(
    None, marks=pytest.mark.skip(reason=f"no failure objects have been recorded from AWS yet: {RECORDED} holds no "
                                        "*.json (record them with `shardproof scenarios run --backend aws --record "
                                        "tests/fixtures/recorded`, see docs/aws.md)"))]


def assert_valid_recorded(path: Path) -> None:
    doc = load_fixture(path)
    key, body = doc["key"], doc["body"]
    verdict = check_failure_object(key, body)  # the failure handler's rules: payload required, ESM layout
    assert verdict.problems == [], verdict.problems
    record = parse_failure_record(body, key=key)  # the typed model replay and the CLI use
    assert record.key is not None and record.key.layout == "esm"
    assert not record.payload_was_object  # AWS writes payload as an escaped JSON string (3.5)
    assert record.condition in ("RetryAttemptsExhausted", "RecordAgeExceeded")
    assert record.envelope.DDBStreamBatchInfo.batchSize == len(record.records)
    top = list(json.loads(body))
    assert top == sorted(top), f"AWS wrote the top-level keys in this order: {top}"


def assert_redacted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    accounts = set(re.findall(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):", text))
    assert accounts <= {PLACEHOLDER_ACCOUNT}, f"unredacted account id(s) {sorted(accounts)} in {path.name}"
    assert not re.search(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", text), f"an access key id in {path.name}"


@pytest.mark.parametrize("path", PARAMS)
def test_spec_3_2_3_5_4_a_recorded_failure_object_is_valid_for_the_harness(path: Path) -> None:
    assert_valid_recorded(path)


@pytest.mark.parametrize("path", PARAMS)
def test_a_recorded_fixture_carries_no_account_id_or_credential(path: Path) -> None:
    assert_redacted(path)


# -- the recorder itself, on a body built here (written to a temporary folder, never to RECORDED) ---

ACCOUNT = "210987654321"
SEQ_WITH_ACCOUNT_DIGITS = f"4000{ACCOUNT}00000"  # a sequence number that happens to contain the account
UUID = "6d8a2a5e-1c8e-4b4e-9a55-0a1d2c3b4e5f"
SHARD = "shardId-00000001573689847184-864758bb"
KEY = f"aws/lambda/{UUID}/{SHARD}/2026/11/28/2026-11-28T13.05.09-0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"


def _body(log_line: str = "") -> str:
    stream = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t/stream/2026-11-28T13:00:00.000"
    record = {"awsRegion": "eu-west-1", "dynamodb": {"Keys": {"pk": {"S": "order#x"}}, "NewImage": {
        "note": {"S": log_line}}, "SequenceNumber": SEQ_WITH_ACCOUNT_DIGITS}, "eventName": "INSERT",
        "eventSourceARN": stream}
    env = {"DDBStreamBatchInfo": {"approximateArrivalOfFirstRecord": "2026-11-28T13:04:59Z",
                                  "approximateArrivalOfLastRecord": "2026-11-28T13:04:59Z", "batchSize": 1,
                                  "endSequenceNumber": SEQ_WITH_ACCOUNT_DIGITS, "shardId": SHARD,
                                  "startSequenceNumber": SEQ_WITH_ACCOUNT_DIGITS, "streamArn": stream},
           "payload": json.dumps({"Records": [record]}),
           "requestContext": {"approximateInvokeCount": 3, "condition": "RetryAttemptsExhausted",
                              "functionArn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:c", "requestId": "r"},
           "responseContext": {"executedVersion": "$LATEST", "functionError": "Unhandled", "statusCode": 200},
           "timestamp": "2026-11-28T13:05:09.123Z", "version": "1.0"}
    return json.dumps(env)


def test_the_recorder_replaces_the_account_in_arns_but_not_inside_sequence_numbers(tmp_path: Path) -> None:
    path = record_failure_object(tmp_path, scenario="one-poison-bisect", key=KEY, body=_body().encode(),
                                 account_id=ACCOUNT, region="eu-west-1", stack="S-1")
    assert_valid_recorded(path)
    assert_redacted(path)
    doc = load_fixture(path)
    assert ACCOUNT not in doc["body"].replace(SEQ_WITH_ACCOUNT_DIGITS, "")
    assert SEQ_WITH_ACCOUNT_DIGITS in doc["body"]  # data is kept: only the account is replaced
    assert doc["key"] == KEY and doc["recorded"]["scenario"] == "one-poison-bisect"


def test_the_recorder_masks_credentials_a_record_carries_and_never_overwrites(tmp_path: Path) -> None:
    leaky = "aws_secret_access_key=abcdEFGH1234/xyz and AKIAABCDEFGHIJKLMNOP"
    path = record_failure_object(tmp_path, scenario="s", key=KEY, body=_body(leaky), account_id=ACCOUNT)
    text = path.read_text(encoding="utf-8")
    assert "abcdEFGH1234" not in text and "AKIAABCDEFGHIJKLMNOP" not in text
    assert_redacted(path)
    with pytest.raises(RecordError, match="already exists"):
        record_failure_object(tmp_path, scenario="s", key=KEY, body=_body(), account_id=ACCOUNT)


def test_the_fixture_checks_catch_an_unredacted_fixture(tmp_path: Path) -> None:
    """The redaction test must be able to fail: a raw body with the account in its ARNs."""
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps({"key": KEY, "body": _body(), "recorded": {}}), encoding="utf-8")
    with pytest.raises(AssertionError, match="unredacted account id"):
        assert_redacted(raw)
