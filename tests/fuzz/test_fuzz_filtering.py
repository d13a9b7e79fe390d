"""Bad FilterCriteria (harness.esm.filtering, and through parse_mapping): a pattern either compiles
or raises EsmValidationError naming where it is; a compiled filter never raises on any record."""

from __future__ import annotations

import json

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
