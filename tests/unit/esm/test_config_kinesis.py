"""Spec 10: CreateEventSourceMapping parameters for Kinesis streams and stream consumers, and the
bad inputs refused with AWS's wording where known."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from harness.esm import EngineSettings, EsmValidationError, parse_mapping
from harness.esm.config import mapping_response
from harness.esm.sources.dynamodb_streams import DYNAMODB
from harness.esm.sources.kinesis import KINESIS

KSTREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
CONSUMER = f"{KSTREAM}/consumer/app:1700000000"
DSTREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-06-10T19:26:16.525"


def kin(**kw):
    return parse_mapping({"EventSourceArn": KSTREAM, "FunctionName": "fn", "StartingPosition": "TRIM_HORIZON", **kw})


def test_spec_10_kinesis_stream_arn_is_a_kinesis_mapping_with_aws_defaults():
    m = kin()
    assert m.kind is KINESIS and m.Source == "kinesis" and m.stream_arn == KSTREAM
    assert (m.BatchSize, m.MaximumRetryAttempts, m.MaximumRecordAgeInSeconds) == (100, -1, -1)
    assert parse_mapping({"EventSourceArn": DSTREAM, "FunctionName": "f", "StartingPosition": "LATEST"}).kind is DYNAMODB


def test_spec_10_consumer_arn_reads_the_consumers_stream():
    """Spec 10: an enhanced fan-out consumer ARN reads its stream (no documented difference [GAP])."""
    m = kin(EventSourceArn=CONSUMER)
    assert m.EventSourceArn == CONSUMER and m.stream_arn == KSTREAM and m.kind is KINESIS
    assert mapping_response(m, "u", "us-east-1", "123456789012")["EventSourceArn"] == CONSUMER
    assert kin(EventSourceArn=f"{KSTREAM}/consumer/app").stream_arn == KSTREAM  # moto's consumer ARNs


@pytest.mark.parametrize("position", ["TRIM_HORIZON", "LATEST"])
def test_spec_10_trim_horizon_and_latest(position):
    assert kin(StartingPosition=position).StartingPosition == position


def test_spec_10_at_timestamp_with_unix_seconds_or_a_datetime():
    m = kin(StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1_700_000_000)
    assert m.StartingPositionTimestamp == 1_700_000_000.0
    assert mapping_response(m, "u", "us-east-1", "123456789012")["StartingPositionTimestamp"] == 1_700_000_000.0
    when = dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    assert kin(StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=when).StartingPositionTimestamp == 1_700_000_000.0


def test_spec_10_at_timestamp_on_a_dynamodb_stream_is_refused_with_aws_wording():
    with pytest.raises(EsmValidationError, match="AT_TIMESTAMP is supported only for Amazon Kinesis streams, "
                                                 "Amazon DocumentDB, Amazon MSK, and self-managed Apache Kafka"):
        parse_mapping({"EventSourceArn": DSTREAM, "FunctionName": "f", "StartingPosition": "AT_TIMESTAMP",
                       "StartingPositionTimestamp": 1_700_000_000})


@pytest.mark.parametrize("arn", [KSTREAM, DSTREAM])
@pytest.mark.parametrize("position", ["TRIM_HORIZON", "LATEST"])
def test_spec_10_starting_position_timestamp_without_at_timestamp_is_refused(arn, position):
    with pytest.raises(EsmValidationError, match="StartingPositionTimestamp is only valid with StartingPosition AT_TIMESTAMP"):
        parse_mapping({"EventSourceArn": arn, "FunctionName": "f", "StartingPosition": position,
                       "StartingPositionTimestamp": 1_700_000_000})


@pytest.mark.parametrize("kw,match", [
    ({"StartingPosition": "AT_TIMESTAMP"}, "AT_TIMESTAMP needs StartingPositionTimestamp"),
    ({"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": "yesterday"}, "StartingPositionTimestamp 'yesterday'"),
    ({"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": True}, "StartingPositionTimestamp True"),
    ({"StartingPosition": "AT_SEQUENCE_NUMBER"},
     r"Value 'AT_SEQUENCE_NUMBER' at 'startingPosition'.*\[TRIM_HORIZON, LATEST, AT_TIMESTAMP\]"),
    ({"StartingPosition": None}, "StartingPosition is required for Kinesis stream event sources"),
    ({"EventSourceArn": "arn:aws:kinesis:us-east-1:123456789012:table/x"}, "Kinesis stream ARN"),
    ({"EventSourceArn": "arn:aws:kinesis:us-east-1:1234:stream/x"}, "is not a DynamoDB stream ARN"),
])
def test_spec_10_bad_kinesis_mappings_name_the_field(kw, match):
    params = {"EventSourceArn": KSTREAM, "FunctionName": "fn", "StartingPosition": "TRIM_HORIZON", **kw}
    if kw.get("StartingPosition", "x") is None:
        params.pop("StartingPosition")
    with pytest.raises(EsmValidationError, match=match):
        parse_mapping(params)


def test_spec_10_starting_position_timestamp_cannot_be_in_the_future():
    """DOC API_CreateEventSourceMapping: "StartingPositionTimestamp cannot be in the future"."""
    params = {"EventSourceArn": KSTREAM, "FunctionName": "fn", "StartingPosition": "AT_TIMESTAMP",
              "StartingPositionTimestamp": 1_700_000_100}
    with pytest.raises(EsmValidationError, match="cannot be in the future"):
        parse_mapping(params, now=1_700_000_000)
    assert parse_mapping(params, now=1_700_000_100).StartingPositionTimestamp == 1_700_000_100


@pytest.mark.parametrize("pattern,match", [
    ({"partitionKey": ["1"]}, "only support filtering on the data key; the pattern names partitionKey"),
    ({"partitionKey": ["1"], "data": {"a": [1]}}, "names partitionKey"),
    ({"kinesis": {"data": {"a": [1]}}}, "names kinesis"),
    ({"eventName": ["aws:kinesis:record"]}, "names eventName"),
    ({"data": [{"prefix": "abc"}]}, "must be a JSON object of field patterns"),
])
def test_spec_10_kinesis_filter_on_anything_but_data_is_refused(pattern, match):
    with pytest.raises(EsmValidationError, match=f"Invalid filter pattern definition. FilterCriteria.Filters.0..Pattern.*{match}"):
        kin(FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})


def test_spec_10_kinesis_filter_on_data_is_accepted_and_dynamodb_keeps_any_key():
    ok = kin(FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"order": {"type": ["buy"]}}})}]})
    assert len(ok.Filters) == 1
    ddb = parse_mapping({"EventSourceArn": DSTREAM, "FunctionName": "f", "StartingPosition": "LATEST",
                         "FilterCriteria": {"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]}})
    assert len(ddb.Filters) == 1


def test_spec_10_poll_rates_are_engine_settings():
    """Spec 7.1 / 10: DynamoDB 4 polls per second, Kinesis once per second per shard."""
    s = EngineSettings()
    assert s.poll_interval(DYNAMODB) == 0.25 and s.poll_interval(KINESIS) == 1.0
    assert EngineSettings(kinesis_poll_interval_s=0.05).poll_interval(KINESIS) == 0.05
