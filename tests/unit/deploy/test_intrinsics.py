"""Every intrinsic function, nested use, and the errors (which must name logical ID and path)."""

from __future__ import annotations

import base64

import pytest

from harness.deploy.errors import IntrinsicError
from harness.deploy.intrinsics import Deployed, Resolver, getatt_references, references


@pytest.fixture
def r() -> Resolver:
    return Resolver(
        region="eu-west-1",
        account_id="123456789012",
        stack_name="Stk",
        parameters={"Env": "prod", "Count": "3", "Names": ["a", "b"]},
        conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": ["3", {"Ref": "Count"}]}]},
            "Either": {"Fn::Or": [{"Condition": "IsDev"}, {"Fn::Equals": [1, "1"]}]},
            "Loop": {"Fn::Not": [{"Condition": "Loop"}]},
        },
        mappings={"M": {"eu-west-1": {"Ami": "ami-1"}}},
        resources={"Table": Deployed("tbl", {"Arn": "arn:tbl", "StreamArn": "arn:tbl/stream/1"})},
        template_resources=frozenset({"Table", "Later"}),
    )


def res(r: Resolver, value: object) -> object:
    return r.resolve(value, logical_id="Thing", path="Properties")


def test_ref_resource_parameter_and_pseudo(r: Resolver) -> None:
    assert res(r, {"Ref": "Table"}) == "tbl"
    assert res(r, {"Ref": "Env"}) == "prod"
    assert res(r, [{"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}, {"Ref": "AWS::Partition"},
                   {"Ref": "AWS::URLSuffix"}, {"Ref": "AWS::StackName"}]) == [
        "eu-west-1", "123456789012", "aws", "amazonaws.com", "Stk"]


def test_getatt_list_and_string_forms(r: Resolver) -> None:
    assert res(r, {"Fn::GetAtt": ["Table", "StreamArn"]}) == "arn:tbl/stream/1"
    assert res(r, {"Fn::GetAtt": "Table.Arn"}) == "arn:tbl"


def test_join_nested_with_getatt(r: Resolver) -> None:
    assert res(r, {"Fn::Join": ["", [{"Fn::GetAtt": ["Table", "Arn"]}, "/*"]]}) == "arn:tbl/*"


def test_sub_string_form_pseudo_attribute_and_literal(r: Resolver) -> None:
    text = "arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:${Table}/${Table.Arn}/${!Literal}/${AWS::URLSuffix}/${AWS::StackName}/${Env}"
    assert res(r, {"Fn::Sub": text}) == "arn:aws:x:eu-west-1:123456789012:tbl/arn:tbl/${Literal}/amazonaws.com/Stk/prod"


def test_sub_with_variables_that_are_intrinsics(r: Resolver) -> None:
    value = {"Fn::Sub": ["${Name}-${Env}", {"Name": {"Fn::Select": [1, {"Ref": "Names"}]}}]}
    assert res(r, value) == "b-prod"


def test_select_split_and_getazs(r: Resolver) -> None:
    assert res(r, {"Fn::Select": ["2", {"Fn::Split": [",", "x,y,z"]}]}) == "z"
    assert res(r, {"Fn::Select": [0, {"Fn::GetAZs": ""}]}) == "eu-west-1a"


def test_if_with_every_condition_function(r: Resolver) -> None:
    assert res(r, {"Fn::If": ["IsProd", "p", "d"]}) == "p"
    assert res(r, {"Fn::If": ["IsDev", "d", "p"]}) == "p"
    assert res(r, {"Fn::If": ["Both", "yes", "no"]}) == "yes"
    assert res(r, {"Fn::If": ["Either", "yes", "no"]}) == "yes"


def test_novalue_removes_properties_and_list_items(r: Resolver) -> None:
    value = {"Keep": 1, "Drop": {"Fn::If": ["IsDev", "x", {"Ref": "AWS::NoValue"}]},
             "List": ["a", {"Ref": "AWS::NoValue"}, "b"]}
    assert res(r, value) == {"Keep": 1, "List": ["a", "b"]}


def test_base64_tojsonstring_length_findinmap(r: Resolver) -> None:
    assert base64.b64decode(res(r, {"Fn::Base64": {"Ref": "Env"}})).decode() == "prod"
    assert res(r, {"Fn::ToJsonString": {"a": {"Ref": "Table"}}}) == '{"a":"tbl"}'
    assert res(r, {"Fn::Length": {"Ref": "Names"}}) == 2
    assert res(r, {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Ami"]}) == "ami-1"


def test_plain_dict_with_condition_key_is_not_an_intrinsic(r: Resolver) -> None:
    statement = {"Condition": {"StringEquals": {"s3:ResourceAccount": {"Ref": "AWS::AccountId"}}}}
    assert res(r, statement) == {"Condition": {"StringEquals": {"s3:ResourceAccount": "123456789012"}}}


@pytest.mark.parametrize(
    "value, fragment",
    [
        ({"Ref": "Nope"}, "Properties.A.Ref: unresolvable reference 'Nope'"),
        ({"Fn::GetAtt": ["Table", "Bogus"]}, "has no attribute 'Bogus' (available: Arn, StreamArn)"),
        ({"Fn::GetAtt": "NoDot"}, "must be 'LogicalId.Attribute'"),
        ({"Fn::GetAtt": ["Later", "Arn"]}, "'Later' is referenced before it was created"),
        ({"Fn::Sub": "${Missing}"}, "Properties.A.Fn::Sub.${Missing}: unresolvable reference 'Missing'"),
        ({"Fn::Sub": "${Table.Nope}"}, "has no attribute 'Nope'"),
        ({"Fn::Select": [5, ["a"]]}, "index 5 out of range"),
        ({"Fn::Select": ["x", ["a"]]}, "index must be an integer"),
        ({"Fn::Split": ["", "abc"]}, "Fn::Split takes"),
        ({"Fn::Join": ["", "notalist"]}, "Fn::Join takes"),
        ({"Fn::If": ["NoSuch", 1, 2]}, "unknown condition 'NoSuch'"),
        ({"Fn::ImportValue": "SharedVpc"}, "Fn::ImportValue 'SharedVpc'"),
        ({"Fn::And": [True]}, "Fn::And takes 2 to 10"),
        ({"Fn::Equals": ["a"]}, "Fn::Equals takes"),
    ],
)
def test_errors_name_logical_id_and_path(r: Resolver, value: object, fragment: str) -> None:
    with pytest.raises(IntrinsicError) as err:
        res(r, {"A": value})
    assert str(err.value).startswith("Thing: Properties.A")
    assert fragment in str(err.value)


def test_condition_cycle_names_the_condition(r: Resolver) -> None:
    # The fault is in the Conditions section, so the error points there rather than at the user.
    with pytest.raises(IntrinsicError, match=r"Conditions.Loop: .*condition 'Loop' refers to itself"):
        res(r, {"A": {"Fn::If": ["Loop", 1, 2]}})


def test_unavailable_parameter_is_a_clear_error() -> None:
    r = Resolver(region="us-east-1", account_id="1", stack_name="S",
                 unavailable_parameters={"BootstrapVersion": "it is read from SSM"})
    with pytest.raises(IntrinsicError, match="Fn: Properties.Ref: parameter 'BootstrapVersion' cannot be resolved locally"):
        r.resolve({"Ref": "BootstrapVersion"}, logical_id="Fn", path="Properties")


def test_references_and_getatt_references_with_paths() -> None:
    props = {"A": {"Ref": "X"}, "B": [{"Fn::GetAtt": ["Y", "Arn"]}], "C": {"Fn::Sub": [
        "${Z}-${W.Arn}-${!Lit}-${v}-${AWS::Region}", {"v": {"Ref": "V"}}]}, "D": {"Ref": "AWS::NoValue"}}
    found = references(props, "Properties")
    assert found == {"X": "Properties.A.Ref", "Y": "Properties.B[0].Fn::GetAtt",
                     "Z": "Properties.C.Fn::Sub.${Z}", "W": "Properties.C.Fn::Sub.${W.Arn}",
                     "V": "Properties.C.Fn::Sub.v.Ref"}
    assert getatt_references(props) == [("Y", "Arn", "B[0].Fn::GetAtt"), ("W", "Arn", "C.Fn::Sub.${W.Arn}")]
