"""`describe` (and `lint`) name every resource a local deploy stands in for, with the reason, so
nobody learns it from a failing call at run time."""

from __future__ import annotations

from harness.deploy.describe import describe_json, describe_text, stood_in_lines
from harness.deploy.template_reader import describe_template

TEMPLATE = {"Resources": {
    "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
    "Cdn": {"Type": "AWS::CloudFront::Distribution", "Properties": {}},
    "Acl": {"Type": "AWS::WAFv2::WebACL", "Properties": {}},
    "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}},
    "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {}},
    "Provider": {"Type": "AWS::Lambda::Function", "Properties": {}},
    "Retention": {"Type": "Custom::LogRetention", "Properties": {"ServiceToken": {"Fn::GetAtt": ["Provider", "Arn"]}}},
    "Remote": {"Type": "AWS::CloudFormation::CustomResource", "Properties": {
        "ServiceToken": "arn:aws:sns:us-east-1:123456789012:provisioner"}},
}}


def test_describe_lists_the_stood_in_resources_and_why() -> None:
    desc = describe_template(TEMPLATE, stack_name="S")
    assert [(s.logical_id, s.resource_type) for s in desc.stood_in] == [
        ("Cdn", "AWS::CloudFront::Distribution"), ("Acl", "AWS::WAFv2::WebACL"),
        ("Remote", "AWS::CloudFormation::CustomResource")]  # APIs, machines, a local provider's resource: created
    assert "provisioner) is not a function of this stack" in desc.stood_in[2].reason
    text = describe_text(desc)
    assert "Stood in for locally (3)" in text and "  - Cdn (AWS::CloudFront::Distribution)" in text
    assert "service's own not-found error" in text
    assert describe_json(desc)["stood_in"][1] == {"logical_id": "Acl", "resource_type": "AWS::WAFv2::WebACL",
                                                  "reason": desc.stood_in[1].reason}


def test_a_stack_with_nothing_stood_in_says_nothing_about_it() -> None:
    desc = describe_template({"Resources": {"Table": TEMPLATE["Resources"]["Table"]}}, stack_name="S")
    assert desc.stood_in == () and stood_in_lines(desc) == [] and "Stood in" not in describe_text(desc)
