"""Bad FilterCriteria (harness.esm.filtering, and through parse_mapping): a pattern either compiles
or raises EsmValidationError naming where it is; a compiled filter never raises on any record."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzkit import json_values, mutated  # type: ignore[import-not-found]
from harness.esm import EsmValidationError, parse_mapping
from harness.esm.filtering import RecordFilter, compile_pattern

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-06-10T19:26:16.525"

VALID_PATTERN = {
    "eventName": ["INSERT", {"anything-but": ["REMOVE"]}],
    "dynamodb": {"NewImage": {"status": {"S": [{"prefix": "NEW"}, {"equals-ignore-case": "open"}]},
                              "amount": {"N": [{"exists": True}]}},
                 "SizeBytes": [{"numeric": [">", 0, "<=", 400000]}]},
    "awsRegion": [{"suffix": "-1"}, None, 5, True],
}
RECORD = {"eventName": "INSERT", "awsRegion": "us-east-1",
          "dynamodb": {"NewImage": {"status": {"S": "NEW"}, "amount": {"N": "5"}}, "SizeBytes": 26}}

matchers = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(["prefix", "suffix", "equals-ignore-case", "exists", "anything-but", "numeric",
                                     "cidr", "wildcard"]), json_values, min_size=1, max_size=2),
)
patterns = st.recursive(st.lists(matchers, max_size=3),
                        lambda inner: st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


def test_the_base_pattern_matches_the_base_record():
    assert compile_pattern(json.dumps(VALID_PATTERN))(RECORD)


def _check(text: str, where: str = "Pattern") -> None:
    try:
        match = compile_pattern(text, where=where)
    except EsmValidationError as exc:
        assert where in str(exc), str(exc)
        return
    for record in (RECORD, {}, {"dynamodb": None}, {"eventName": ["INSERT"]}, {"dynamodb": {"NewImage": []}}):
        assert match(record) in (True, False)


@FUZZ
@given(st.one_of(st.text(max_size=80), json_values.map(json.dumps), patterns.map(json.dumps)))
def test_arbitrary_patterns(text):
    _check(text)


@FUZZ
@given(mutated(VALID_PATTERN, values=st.one_of(json_values, matchers)))
def test_mutated_patterns(case):
    doc, _, _ = case
    _check(json.dumps(doc), where="FilterCriteria.Filters[0].Pattern")


@FUZZ
@given(st.one_of(json_values, st.lists(st.dictionaries(st.sampled_from(["Pattern", "pattern"]),
                                                        st.one_of(st.text(max_size=20), patterns.map(json.dumps), json_values),
                                                        max_size=2), max_size=7)))
def test_filter_criteria_through_parse_mapping(filters):
    params = {"EventSourceArn": STREAM, "FunctionName": "f", "StartingPosition": "LATEST",
              "FilterCriteria": {"Filters": filters}}
    try:
        cfg = parse_mapping(params)
    except EsmValidationError as exc:
        assert "filter" in str(exc).lower() or "pattern" in str(exc).lower(), str(exc)
        return
    f = RecordFilter(cfg.Filters)
    assert f.passes(RECORD) in (True, False)


@FUZZ
@given(json_values)
def test_a_compiled_filter_survives_any_record(record):
    assert RecordFilter([json.dumps(VALID_PATTERN)]).passes(record) in (True, False) if isinstance(record, dict) else True
    if isinstance(record, dict):
        compile_pattern(json.dumps(VALID_PATTERN))(record)


def test_a_numeric_operator_that_is_not_a_string_is_a_validation_error():
    """Found by the fuzzer: a list as the operator raised TypeError (unhashable) from the dict lookup."""
    try:
        compile_pattern('{"n": [{"numeric": [[], 0]}]}', where="FilterCriteria.Filters[0].Pattern")
    except EsmValidationError as exc:
        assert "FilterCriteria.Filters[0].Pattern.n" in str(exc) and "numeric" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a list operator was accepted")


# -- differential: the Lambda filter against moto's EventBridge pattern matcher ------------------------
#
# Spec 7.4: Lambda "supports the same set of syntax and rules as Amazon EventBridge"
# (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html#filtering-syntax), so
# moto's independent EventBridge matcher (moto.events.models.EventPattern) must agree with ours on the
# operators both implement: exact values (strings, integers, non-integral floats, null), prefix,
# suffix (and their equals-ignore-case forms), equals-ignore-case, wildcard, anything-but (value,
# list, prefix, suffix, equals-ignore-case, wildcard), numeric, exists, $or, arrays of scalars,
# missing intermediate objects.
#
# Left out of the generated domain, because AWS and moto differ there (ours follows AWS):
# - numbers compare by representation on AWS (the Lambda note: 300, 300.0 and 3.0e2 are not equal)
#   and JSON true is not 1; moto compares Python values (300 == 300.0, True == 1). So exact
#   numbers are integers or x.5 floats, and no booleans appear.
# - an empty object or empty array holds no leaf value, so on AWS its path is absent; moto keeps
#   it as a present value. Generated objects and arrays are never empty.
# - arrays of objects: AWS matches a sub-pattern within one element; moto does not descend into
#   arrays. Generated arrays hold scalars only.
# - anything-but on null or booleans, and malformed operators: AWS refuses the pattern, moto
#   evaluates it. Only valid patterns are generated.
# Lambda-only rules, outside EventBridge altogether: a Kinesis pattern filters only `data`, which is
# base64-decoded and parsed as JSON, and non-JSON data matches no pattern (spec 10); a DynamoDB
# record is matched as the Lambda-shaped record, its `dynamodb` field holding typed attribute values
# as strings (tests/unit/esm/test_filter_rules.py). And the EventBridge operator table marks the
# anything-but prefix/suffix/ignore-case/wildcard forms "No" for Pipes; the Lambda table does not
# list them: the harness accepts them, as EventBridge does [GAP].

from moto.events.models import EventPattern  # noqa: E402

KEYS = st.sampled_from(["a", "b"])
TEXT = st.text(alphabet="xX.", max_size=3)
NUMBER = st.one_of(st.integers(-2, 2), st.integers(-2, 2).map(lambda i: i + 0.5))
SCALAR = st.one_of(TEXT, NUMBER, st.none())
EVENT_VALUE = st.recursive(SCALAR, lambda inner: st.one_of(
    st.lists(SCALAR, min_size=1, max_size=3), st.dictionaries(KEYS, inner, min_size=1, max_size=3)), max_leaves=8)
EVENTS = st.dictionaries(KEYS, EVENT_VALUE, max_size=3)
WILDCARD = st.text(alphabet="xX*.", max_size=4).filter(lambda w: "**" not in w)
STRING_OP = st.one_of(
    st.builds(lambda s: {"prefix": s}, TEXT), st.builds(lambda s: {"suffix": s}, TEXT),
    st.builds(lambda s: {"prefix": {"equals-ignore-case": s}}, TEXT),
    st.builds(lambda s: {"suffix": {"equals-ignore-case": s}}, TEXT),
    st.builds(lambda s: {"equals-ignore-case": s}, TEXT), st.builds(lambda w: {"wildcard": w}, WILDCARD))
ANYTHING_BUT = st.one_of(
    TEXT, st.integers(-2, 2), st.lists(TEXT, min_size=1, max_size=3), st.lists(st.integers(-2, 2), min_size=1, max_size=3),
    st.builds(lambda s: {"prefix": s}, TEXT), st.builds(lambda s: {"suffix": s}, TEXT),
    st.builds(lambda s: {"equals-ignore-case": s}, TEXT), st.builds(lambda w: {"wildcard": w}, WILDCARD))
NUMERIC = st.one_of(
    st.tuples(st.sampled_from(["<", "<=", "=", ">", ">="]), NUMBER).map(list),
    st.tuples(st.sampled_from([">", ">="]), NUMBER, st.sampled_from(["<", "<="]), NUMBER).map(list))
MATCHER = st.one_of(SCALAR, STRING_OP, ANYTHING_BUT.map(lambda a: {"anything-but": a}),
                    NUMERIC.map(lambda n: {"numeric": n}), st.booleans().map(lambda b: {"exists": b}))
LEAF = st.lists(MATCHER, min_size=1, max_size=3)


def _pattern_node(inner: st.SearchStrategy) -> st.SearchStrategy:
    fields = st.dictionaries(KEYS, st.one_of(LEAF, inner), min_size=1, max_size=2)
    with_or = st.tuples(fields, st.lists(fields, min_size=1, max_size=3)).map(lambda t: {**t[0], "$or": t[1]})
    return st.one_of(fields, with_or)


PATTERNS = st.recursive(st.dictionaries(KEYS, LEAF, min_size=1, max_size=2), _pattern_node, max_leaves=4)


def _literals(node: object) -> list:
    """The strings and numbers a pattern mentions (wildcards with their stars filled in), so that
    events built from them match often enough for the comparison to mean something."""
    if isinstance(node, dict):
        return [x for v in node.values() for x in _literals(v)]
    if isinstance(node, list):
        return [x for v in node for x in _literals(v)]
    if isinstance(node, str):
        return [node, node.replace("*", "x"), node.upper(), node + "x", "x" + node]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return [node, node + 1, node - 0.5]
    return []


def _shaped_like(draw: st.DrawFn, node: dict) -> dict:
    """An event with the pattern's shape, its leaves drawn from the literals each leaf mentions (or
    left out, or replaced by an array or any scalar), so that many events match and many nearly do."""
    event: dict = {}
    for key, sub in node.items():
        if key == "$or":
            for alt in draw(st.lists(st.sampled_from(sub), max_size=2)):
                event.update(_shaped_like(draw, alt))
            continue
        if isinstance(sub, dict):
            if draw(st.integers(0, 5)) < 5:  # hypothesis starts from 0: present first
                event[key] = _shaped_like(draw, sub) or draw(SCALAR)
            continue
        known = [x for x in _literals(sub) if x not in ("<", "<=", "=", ">", ">=")]
        scalar = st.one_of(st.sampled_from(known), SCALAR) if known else SCALAR
        choice = draw(st.integers(0, 5))
        if choice == 5:
            continue
        event[key] = draw(st.lists(scalar, min_size=1, max_size=3)) if choice == 4 else draw(scalar)
    return event


@st.composite
def pattern_and_event(draw: st.DrawFn) -> tuple[dict, dict]:
    pattern = draw(PATTERNS)
    return pattern, _shaped_like(draw, pattern)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.tuples(PATTERNS, EVENTS), pattern_and_event()))
def test_spec_7_4_agrees_with_moto_eventbridge_patterns(case):
    """Spec 7.4: over the operators both implement, our filter and moto's EventBridge matcher agree
    (the domain and the known differences are described above)."""
    pattern, event = case
    ours = compile_pattern(json.dumps(pattern), where="Pattern")(event)
    theirs = EventPattern.load(json.dumps(pattern)).matches_event(event)
    assert ours == theirs, f"pattern {json.dumps(pattern)} event {json.dumps(event)}: ours {ours}, moto {theirs}"


@pytest.mark.parametrize("pattern,event,aws", [
    ({"n": [300]}, {"n": 300.0}, False),  # Lambda note: 300 and 300.0 are not equal
    ({"n": [1]}, {"n": True}, False),  # JSON true is not the number 1
    ({"o": [{"exists": True}]}, {"o": {}}, False),  # an empty object holds no leaf
    ({"o": [{"exists": False}]}, {"o": []}, True),  # nor does an empty array
    ({"o": {"k": ["v"]}}, {"o": [{"k": "v"}]}, True),  # AWS looks inside arrays of objects
])
def test_spec_7_4_where_aws_and_moto_differ_we_follow_aws(pattern, event, aws):
    """Spec 7.4: the documented differences, pinned: ours gives AWS's answer, moto the other one."""
    assert compile_pattern(json.dumps(pattern))(event) is aws
    assert EventPattern.load(json.dumps(pattern)).matches_event(event) is (not aws)
