"""Filter pattern semantics (spec 7.4), each rule checked against AWS's own documented examples.

Sources, cited per test:
- LAMBDA = https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html ("Control which
  events Lambda sends to your function"): #filtering-syntax (the "Filter rule syntax" table: Null,
  Empty, Equals, And, Or, Not, Numeric (equals), Numeric (range), Exists, Does not exist, Begins with,
  and the note on numbers), #filtering-examples (Kinesis partitionKey/Location, Temperature range,
  multi-level DynamoDB Keys.Id.N), #filtering-streams ("Properly filtering Kinesis and DynamoDB
  messages"). Lambda "supports the same set of syntax and rules as Amazon EventBridge", so the
  operators the Lambda table leaves out come from:
- EB_OPS = https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
  (the comparison-operator table: anything-but and its prefix/suffix/ignore-case/wildcard forms,
  prefix/suffix ignore case, equals-ignore-case, suffix, wildcard, $or; "Comparison operators only
  work on leaf nodes, with the exception of $or and anything-but");
- EB_ARRAYS = https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
  ("If the value in the event is an array, then the event pattern matches if the intersection of the
  event pattern array and the event array is non-empty").
"""

from __future__ import annotations

import base64
import json

import pytest

from harness.esm import EsmValidationError
from harness.esm.filtering import RecordFilter, compile_pattern
from harness.esm.sources import kinesis


def matches(pattern: dict, event: dict) -> bool:
    return compile_pattern(json.dumps(pattern))(event)


# -- LAMBDA #filtering-syntax: the rows of the "Filter rule syntax" table ---------------------------


@pytest.mark.parametrize("pattern,event,expected", [
    # Null: "UserID is null" -> "UserID": [ null ]; spec 7.4: null never matches an absent key
    ({"UserID": [None]}, {"UserID": None}, True),
    ({"UserID": [None]}, {}, False),
    ({"UserID": [None]}, {"UserID": ""}, False),
    # Empty: "LastName is empty" -> "LastName": [""]
    ({"LastName": [""]}, {"LastName": ""}, True),
    ({"LastName": [""]}, {"LastName": None}, False),
    ({"LastName": [""]}, {}, False),
    # Equals: "Name is Alice"; exact, case-sensitive ("without case-folding")
    ({"Name": ["Alice"]}, {"Name": "Alice"}, True),
    ({"Name": ["Alice"]}, {"Name": "alice"}, False),
    # And: Location is "New York" and Day is "Monday"
    ({"Location": ["New York"], "Day": ["Monday"]}, {"Location": "New York", "Day": "Monday"}, True),
    ({"Location": ["New York"], "Day": ["Monday"]}, {"Location": "New York", "Day": "Tuesday"}, False),
    # Or: PaymentType is "Credit" or "Debit"
    ({"PaymentType": ["Credit", "Debit"]}, {"PaymentType": "Debit"}, True),
    ({"PaymentType": ["Credit", "Debit"]}, {"PaymentType": "Cash"}, False),
    # Not: Weather is anything but "Raining"; an absent field is not "anything but"
    ({"Weather": [{"anything-but": ["Raining"]}]}, {"Weather": "Sunny"}, True),
    ({"Weather": [{"anything-but": ["Raining"]}]}, {"Weather": "Raining"}, False),
    ({"Weather": [{"anything-but": ["Raining"]}]}, {}, False),
    # Numeric (equals): Price is 100
    ({"Price": [{"numeric": ["=", 100]}]}, {"Price": 100}, True),
    ({"Price": [{"numeric": ["=", 100]}]}, {"Price": 100.0}, True),  # numeric compares values
    ({"Price": [{"numeric": ["=", 100]}]}, {"Price": "100"}, False),
    # Numeric (range): more than 10, less than or equal to 20
    ({"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 20}, True),
    ({"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 10}, False),
    ({"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 20.5}, False),
    # Exists / Does not exist: ProductName
    ({"ProductName": [{"exists": True}]}, {"ProductName": "x"}, True),
    ({"ProductName": [{"exists": True}]}, {}, False),
    ({"ProductName": [{"exists": False}]}, {}, True),
    ({"ProductName": [{"exists": False}]}, {"ProductName": "x"}, False),
    ({"ProductName": [{"exists": False}]}, {"ProductName": None}, False),  # null is a present value
    # Begins with: Region is in the US
    ({"Region": [{"prefix": "us-"}]}, {"Region": "us-east-1"}, True),
    ({"Region": [{"prefix": "us-"}]}, {"Region": "eu-west-1"}, False),
])
def test_spec_7_4_lambda_filter_rule_syntax_table(pattern, event, expected):
    """Spec 7.4; LAMBDA #filtering-syntax, one case per row of the table (and its negatives)."""
    assert matches(pattern, event) is expected


def test_spec_7_4_numbers_compare_by_representation():
    """Spec 7.4; LAMBDA #filtering-syntax note: "For numbers, Lambda also uses string representation.
    For example, 300, 300.0, and 3.0e2 are not considered equal." (And JSON true is not 1.)"""
    assert matches({"n": [300]}, {"n": 300})
    assert not matches({"n": [300]}, {"n": 300.0})
    assert not matches({"n": [1]}, {"n": True})
    assert matches({"b": [True]}, {"b": True}) and not matches({"b": [True]}, {"b": 1})


# -- LAMBDA #filtering-examples ----------------------------------------------------------------------


def _kinesis_record(data: object) -> dict:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return {"kinesis": {"partitionKey": "1", "sequenceNumber": "1", "data": base64.b64encode(raw).decode(),
                        "approximateArrivalTimestamp": 1545084650.987}, "eventSource": "aws:kinesis"}


def test_spec_7_4_and_10_kinesis_data_is_matched_decoded():
    """Spec 7.4, 10; LAMBDA #filtering-examples: `{"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}}`
    on the Kinesis record's `data`, base64-decoded and parsed as JSON (the view the engine and
    simulate share); #filtering-streams: non-JSON data with a data pattern is dropped (filtered out),
    even by a pattern that only says what must not exist."""
    f = RecordFilter([json.dumps({"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}})],
                     view=kinesis.filter_view)
    assert f.passes(_kinesis_record({"City": "Seattle", "Temperature": 55}))
    assert not f.passes(_kinesis_record({"City": "Seattle", "Temperature": 46}))
    assert not f.passes(_kinesis_record(b"not json"))
    absent = RecordFilter([json.dumps({"data": {"SkipMe": [{"exists": False}]}})], view=kinesis.filter_view)
    assert absent.passes(_kinesis_record({"City": "Seattle"}))
    assert not absent.passes(_kinesis_record({"SkipMe": 1}))
    assert not absent.passes(_kinesis_record(b"\xff\xfe"))


DDB_RECORD = {"eventName": "INSERT", "eventSource": "aws:dynamodb",
              "dynamodb": {"Keys": {"Id": {"N": "101"}},
                           "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
                           "SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"}}


def test_spec_7_4_multi_level_dynamodb_filtering():
    """Spec 7.4; LAMBDA #filtering-examples, "Multi-level filtering": `{"dynamodb": {"Keys": {"Id":
    {"N": ["101"]}}}}` matches the documented record; the record's `dynamodb` field is matched as
    the JSON Lambda delivers, so attribute values are typed strings and numeric never applies."""
    assert matches({"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}}, DDB_RECORD)
    assert not matches({"dynamodb": {"Keys": {"Id": {"N": ["102"]}}}}, DDB_RECORD)
    assert not matches({"dynamodb": {"Keys": {"Id": {"N": [101]}}}}, DDB_RECORD)
    assert not matches({"dynamodb": {"Keys": {"Id": {"N": [{"numeric": ["=", 101]}]}}}}, DDB_RECORD)
    assert matches({"dynamodb": {"SizeBytes": [{"numeric": [">", 0]}]}}, DDB_RECORD)


# -- exists:false at any depth (the CDK FilterRule.notExists() case) ----------------------------------

SKIP_ME = {"dynamodb": {"NewImage": {"SkipMe": {"S": [{"exists": False}]}}}}


@pytest.mark.parametrize("dynamodb,expected", [
    ({"NewImage": {"Id": {"N": "1"}}}, True),  # NewImage without SkipMe: leaf path absent
    ({"Keys": {"Id": {"N": "1"}}}, True),  # no NewImage at all (REMOVE, KEYS_ONLY)
    ({"NewImage": {"SkipMe": {"N": "1"}}}, True),  # SkipMe.S absent (another type)
    ({"NewImage": {"SkipMe": {"S": "yes"}}}, False),
    ({"NewImage": {"SkipMe": {"S": ""}}}, False),
])
def test_spec_7_4_exists_false_matches_an_absent_leaf_at_any_depth(dynamodb, expected):
    """Spec 7.4 (exists:false on a leaf path matches when the leaf path is absent, whatever object
    above it is missing); LAMBDA #filtering-syntax "Does not exist". A missing intermediate object
    made every such record fail the filter, so a consumer behind CDK's `FilterRule.notExists()` was
    never invoked."""
    assert matches(SKIP_ME, {"eventName": "INSERT", "dynamodb": dynamodb}) is expected
    assert matches(SKIP_ME, {"eventName": "REMOVE"}) is True


def test_spec_7_4_exists_false_through_the_mapping_filter_keeps_the_records_without_the_attribute():
    """Spec 7.4, 7.1: the same pattern as FilterCriteria (what the engine and simulate use)."""
    f = RecordFilter([json.dumps(SKIP_ME)])
    assert f.passes({"dynamodb": {"NewImage": {"Id": {"N": "1"}}}})
    assert not f.passes({"dynamodb": {"NewImage": {"SkipMe": {"S": "y"}}}})


def test_spec_7_4_exists_looks_at_leaves_not_objects():
    """Spec 7.4; EB_OPS: "Comparison operators only work on leaf nodes": an attribute holding an
    object ({"S": ...}) is not a leaf, so exists:true on it does not match and exists:false does."""
    event = {"dynamodb": {"NewImage": {"SkipMe": {"S": "y"}}}}
    assert not matches({"dynamodb": {"NewImage": {"SkipMe": [{"exists": True}]}}}, event)
    assert matches({"dynamodb": {"NewImage": {"SkipMe": [{"exists": False}]}}}, event)
    assert not matches({"x": [{"exists": True}]}, {"x": []})  # an empty array holds no leaf


# -- arrays (EB_ARRAYS) -------------------------------------------------------------------------------


def test_spec_7_4_an_array_field_matches_when_any_element_matches():
    """Spec 7.4; EB_ARRAYS: the pattern matches when the pattern array and the event array intersect
    (its "resources" example); every matcher applies element by element."""
    event = {"resources": ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x",
                           "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}
    assert matches({"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
                                  "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]}, event)
    assert not matches({"resources": ["arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}, event)
    assert matches({"resources": [{"prefix": "arn:aws:ec2"}]}, event)
    assert matches({"n": [{"numeric": [">", 5]}]}, {"n": [1, 7]})
    assert matches({"items": {"sku": ["b"]}}, {"items": [{"sku": "a"}, {"sku": "b"}]})
    # Array consistency: one element must satisfy the whole sub-pattern.
    assert not matches({"items": {"sku": ["a"], "qty": [2]}}, {"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]})


# -- EB_OPS: the operators the Lambda table does not list ---------------------------------------------


@pytest.mark.parametrize("pattern,event,expected", [
    # Anything-but: State is any value besides "initializing"
    ({"state": [{"anything-but": "initializing"}]}, {"state": "running"}, True),
    ({"state": [{"anything-but": "initializing"}]}, {"state": "initializing"}, False),
    # Anything-but (begins with): Region is not in the US
    ({"Region": [{"anything-but": {"prefix": "us-"}}]}, {"Region": "eu-west-1"}, True),
    ({"Region": [{"anything-but": {"prefix": "us-"}}]}, {"Region": "us-east-1"}, False),
    # Anything-but (ends with): FileName does not end with .png
    ({"FileName": [{"anything-but": {"suffix": ".png"}}]}, {"FileName": "a.jpg"}, True),
    ({"FileName": [{"anything-but": {"suffix": ".png"}}]}, {"FileName": "a.png"}, False),
    # Anything-but (ignore case)
    ({"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}, {"state": "INITIALIZING"}, False),
    ({"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}, {"state": "ready"}, True),
    # Anything-but using a wildcard: FilePath not including /lib/
    ({"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}, {"FilePath": "/usr/lib/x"}, False),
    ({"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}, {"FilePath": "/usr/bin/x"}, True),
    # Begins with (ignore case): service starts with "eventb"
    ({"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}, {"service": "EventBridge"}, True),
    ({"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}, {"service": "lambda"}, False),
    # Equals (ignore case): Name is "Alice"
    ({"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "Alice"}, True),
    ({"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "Alicia"}, False),
    # Ends with: FileName ends with .png
    ({"FileName": [{"suffix": ".png"}]}, {"FileName": "image.png"}, True),
    ({"FileName": [{"suffix": ".png"}]}, {"FileName": "image.PNG"}, False),
    # Ends with (ignore case): service ends with "tbridge"
    ({"service": [{"suffix": {"equals-ignore-case": "tBridge"}}]}, {"service": "EVENTBRIDGE"}, True),
    # Wildcard: FileName in dir, ending .png
    ({"FileName": [{"wildcard": "dir/*.png"}]}, {"FileName": "dir/a/b.png"}, True),
    ({"FileName": [{"wildcard": "dir/*.png"}]}, {"FileName": "other/b.png"}, False),
    ({"FileName": [{"wildcard": "a\\*b"}]}, {"FileName": "a*b"}, True),  # an escaped star is literal
    ({"FileName": [{"wildcard": "a\\*b"}]}, {"FileName": "axxb"}, False),
    # $or (multiple fields): Location is "New York", or Day is "Monday"
    ({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}, {"Day": "Monday"}, True),
    ({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}, {"Location": "Paris", "Day": "Friday"}, False),
    ({"dynamodb": {"$or": [{"NewImage": {"a": {"S": ["1"]}}}, {"OldImage": {"a": {"S": ["1"]}}}]}},
     {"dynamodb": {"OldImage": {"a": {"S": "1"}}}}, True),
    # IP address (cidr): source-ip in 10.0.0.0/24
    ({"source-ip": [{"cidr": "10.0.0.0/24"}]}, {"source-ip": "10.0.0.255"}, True),
    ({"source-ip": [{"cidr": "10.0.0.0/24"}]}, {"source-ip": "10.0.1.1"}, False),
])
def test_spec_7_4_eventbridge_comparison_operators(pattern, event, expected):
    """Spec 7.4; EB_OPS, one case per row of the comparison-operator table (and its negatives)."""
    assert matches(pattern, event) is expected


@pytest.mark.parametrize("pattern,why", [
    ({"a": [{"wildcard": "a**b"}]}, "consecutive wildcard"),
    ({"a": [{"anything-but": [None]}]}, "not null or booleans"),
    ({"a": [{"anything-but": {"prefix": ["x"]}}]}, "anything-but prefix takes a string"),
    ({"a": [{"numeric": ["<", 5, ">", 1]}]}, "lower bound"),
    ({"a": [{"numeric": [">", 1, "<", 5, "=", 3]}]}, "numeric takes"),
    ({"a": [{"exists": "yes"}]}, "exists takes true or false"),
    ({"a": [{"cidr": "10.0.0.300/8"}]}, "cidr"),
    ({"$or": []}, "$or takes a non-empty list"),
    ({"a": [{"prefix": 5}]}, "prefix takes a string"),
])
def test_spec_7_4_invalid_operators_are_refused_naming_the_path(pattern, why):
    """Spec 7.4, 7.1: a pattern AWS refuses gives InvalidParameterValueException naming where."""
    with pytest.raises(EsmValidationError, match="Invalid filter pattern definition") as exc:
        compile_pattern(json.dumps(pattern), where="FilterCriteria.Filters[0].Pattern")
    assert "FilterCriteria.Filters[0].Pattern" in str(exc.value) and why in str(exc.value)
