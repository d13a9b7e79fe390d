"""Mapping validation (spec 1, 3.1, 7.1) and FilterCriteria (spec 7.1)."""

from __future__ import annotations

import json

import pytest

from harness.esm import EsmValidationError, parse_mapping
from harness.esm.filtering import RecordFilter

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-06-10T19:26:16.525"
BASE = {"EventSourceArn": ARN, "FunctionName": "fn", "StartingPosition": "TRIM_HORIZON"}


def p(**kw):
    return parse_mapping({**BASE, **kw})


def test_spec7_1_defaults_echoed():
    cfg = p()
    assert (cfg.BatchSize, cfg.MaximumRetryAttempts, cfg.MaximumRecordAgeInSeconds, cfg.ParallelizationFactor,
            cfg.TumblingWindowInSeconds, cfg.BisectBatchOnFunctionError, cfg.FunctionResponseTypes) == (100, -1, -1, 1, 0, False, ())
    assert cfg.FunctionArn == "arn:aws:lambda:us-east-1:123456789012:function:fn"


def test_function_arn_is_reduced_to_the_bare_name():
    cfg = p(FunctionName="arn:aws:lambda:eu-west-1:111122223333:function:consumer")
    assert cfg.FunctionName == "consumer" and cfg.FunctionArn.endswith(":function:consumer")


@pytest.mark.parametrize("age", [0, 59, 604801, -2, "60"])
def test_spec1_record_age_aws_error_text(age):
    with pytest.raises(EsmValidationError, match=r"MaximumRecordAgeInSeconds must be either -1 \(forever\) or between 60 and 604800 \(inclusive\)"):
        p(MaximumRecordAgeInSeconds=age)


@pytest.mark.parametrize("age", [-1, 60, 604800])
def test_spec1_record_age_valid(age):
    assert p(MaximumRecordAgeInSeconds=age).MaximumRecordAgeInSeconds == age


@pytest.mark.parametrize("field,value,api", [("MaximumRetryAttempts", -2, "maximumRetryAttempts"),
                                             ("MaximumRetryAttempts", 10001, "maximumRetryAttempts"),
                                             ("BatchSize", 0, "batchSize"), ("BatchSize", 10001, "batchSize"),
                                             ("MaximumBatchingWindowInSeconds", 301, "maximumBatchingWindowInSeconds")])
def test_spec1_7_1_ranges_name_the_field(field, value, api):
    with pytest.raises(EsmValidationError, match=f"Value '{value}' at '{api}' failed to satisfy constraint"):
        p(**{field: value})


def test_spec7_1_batch_size_over_10_with_window_0_is_accepted_for_streams():
    assert p(BatchSize=10000, MaximumBatchingWindowInSeconds=0).BatchSize == 10000


@pytest.mark.parametrize("kw,match", [
    ({"StartingPosition": "AT_TIMESTAMP"}, "AT_TIMESTAMP is supported only for Amazon Kinesis"),
    ({"StartingPosition": None}, "StartingPosition is required"),
    ({"DestinationConfig": {"OnFailure": {"Destination": "kafka://topic"}}}, "Kafka"),
    ({"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:lambda:us-east-1:1:function:x"}}}, "SQS queue, SNS topic or S3"),
    ({"DestinationConfig": {"OnSuccess": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}}}, "OnSuccess"),
    ({"FunctionResponseTypes": ["Nope"]}, "functionResponseTypes"),
    ({"ParallelizationFactor": 2, "TumblingWindowInSeconds": 60}, "ParallelizationFactor=2 together with TumblingWindowInSeconds=60"),
    ({"ParallelizationFactor": 0}, "parallelizationFactor"),
    ({"ParallelizationFactor": 11}, "parallelizationFactor"),
    ({"TumblingWindowInSeconds": -1}, "tumblingWindowInSeconds"),
    ({"TumblingWindowInSeconds": 901}, "tumblingWindowInSeconds"),
    ({"BisectBatchOnFunctionError": "yes"}, "BisectBatchOnFunctionError must be a boolean"),
    ({"Bogus": 1}, "unknown event source mapping parameter"),
    ({"EventSourceArn": "arn:aws:sqs:us-east-1:1:q"}, "EventSourceArn"),
    ({"FunctionName": "bad name!"}, "functionName"),
    ({"FilterCriteria": {"Filters": [{"Pattern": "{"}]}}, r"Filters\[0\].Pattern"),
    ({"FilterCriteria": {"Filters": [{"Pattern": json.dumps({"eventName": "INSERT"})}]}}, "leaf values must be arrays"),
    ({"FilterCriteria": {"Filters": [{"Pattern": '{"a":[1]}'}] * 6}}, "filterCriteria.filters"),
])
def test_bad_mapping_errors_name_the_field(kw, match):
    params = {**BASE, **kw}
    if kw.get("StartingPosition", "x") is None:
        params.pop("StartingPosition")
    with pytest.raises(EsmValidationError, match=match):
        parse_mapping(params)


def test_spec3_1_empty_destination_removes_it():
    assert p(DestinationConfig={"OnFailure": {"Destination": ""}}).OnFailureDestination is None


REC = {"eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
       "awsRegion": "us-east-1",
       "dynamodb": {"ApproximateCreationDateTime": 1700000000, "Keys": {"pk": {"S": "order-1"}},
                    "NewImage": {"pk": {"S": "order-1"}, "qty": {"N": "5"}, "tags": {"L": [{"S": "a"}]}},
                    "SequenceNumber": "100", "SizeBytes": 20}}


def f(*patterns):
    return RecordFilter([json.dumps(x) for x in patterns])


@pytest.mark.parametrize("pattern,expected", [
    ({"eventName": ["INSERT"]}, True),
    ({"eventName": ["MODIFY", "REMOVE"]}, False),
    ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "order-"}]}}}}, True),
    ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "user-"}]}}}}, False),
    ({"eventName": [{"anything-but": ["REMOVE"]}]}, True),
    ({"eventName": [{"anything-but": "INSERT"}]}, False),
    ({"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}}, True),
    ({"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0, "<", 5]}]}}, False),
    ({"dynamodb": {"NewImage": {"qty": {"N": [{"numeric": [">", 1]}]}}}}, False),  # "5" is a string
    ({"dynamodb": {"NewImage": {"qty": {"N": ["5"]}}}}, True),
    ({"dynamodb": {"OldImage": [{"exists": False}]}}, True),
    ({"dynamodb": {"OldImage": [{"exists": True}]}}, False),
    ({"dynamodb": {"NewImage": {"pk": {"S": [{"exists": True}]}}}}, True),
    # spec 7.4: exists looks at leaf paths; `pk` holds an object ({"S": ...}), not a leaf value
    # (EventBridge: "Comparison operators only work on leaf nodes, with the exception of $or and anything-but")
    ({"dynamodb": {"NewImage": {"pk": [{"exists": True}]}}}, False),
    ({"eventName": ["INSERT"], "eventSource": ["aws:kinesis"]}, False),  # AND inside a pattern
])
def test_spec7_1_filter_grammar(pattern, expected):
    assert f(pattern).passes(REC) is expected


def test_spec7_1_filters_are_ored_and_no_filter_passes_everything():
    assert f({"eventName": ["REMOVE"]}, {"eventName": ["INSERT"]}).passes(REC)
    assert not f({"eventName": ["REMOVE"]}, {"eventName": ["MODIFY"]}).passes(REC)
    assert RecordFilter([]).passes(REC)


@pytest.mark.parametrize("bad", ['{"a": [{"numeric": [">", "x"]}]}', '{"a": [{"bogus": 1}]}', '[]', '{"a": []}'])
def test_spec7_1_invalid_patterns(bad):
    with pytest.raises(EsmValidationError, match="Invalid filter pattern definition"):
        RecordFilter([bad])
