"""The `template` source: JSON, YAML with CloudFormation's short forms, and malformed files."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from sources_testkit import FIXTURE_ASSEMBLY, copy_fixture_assembly, fixture_template

from harness.deploy.sources import SourceError, SourceSpec, open_source
from harness.deploy.sources.template import default_stack_name

SHORT_FORMS = """\
AWSTemplateFormatVersion: 2010-09-09
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  Both: !And [!Condition IsProd, !Not [!Equals [!Ref Env, dev]]]
  Either: !Or [!Condition IsProd, !Condition Both]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-queue"
      Tags:
        - Key: ref
          Value: !Ref Env
        - Key: att
          Value: !GetAtt Table.StreamArn
        - Key: dotted
          Value: !GetAtt Db.Endpoint.Address
        - Key: listed
          Value: !GetAtt [Table, Arn]
        - Key: if
          Value: !If [IsProd, big, small]
        - Key: join
          Value: !Join ["", [a, !Ref Env, !Sub ["${x}", {x: !Ref Env}]]]
        - Key: select
          Value: !Select [0, !Split [",", "a,b"]]
        - Key: azs
          Value: !Select [0, !GetAZs ""]
        - Key: import
          Value: !ImportValue shared-bucket
        - Key: map
          Value: !FindInMap [Sizes, !Ref Env, memory]
        - Key: b64
          Value: !Base64 hello
        - Key: cidr
          Value: !Select [0, !Cidr ["10.0.0.0/16", 4, 8]]
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_json_template(tmp_path: Path) -> None:
    path = copy_fixture_assembly(tmp_path / "stack") / "Fixture.template.json"
    result = open_source(SourceSpec("template", path)).synthesize()
    assert result.template == fixture_template()
    assert result.assembly_dir == path.parent.resolve() and result.stack_name == "Fixture-template"
    assert result.cached is False and result.notes == ()
    assert open_source(SourceSpec("template", path, stack="Mine")).synthesize().stack_name == "Mine"


def test_yaml_short_forms_become_long_forms(tmp_path: Path) -> None:
    result = open_source(SourceSpec("template", _write(tmp_path, "template.yaml", SHORT_FORMS))).synthesize()
    t = result.template
    assert t["AWSTemplateFormatVersion"] == "2010-09-09"  # a string, never a date
    assert t["Conditions"] == {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "Env"}, "dev"]}]}]},
        "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "Both"}]},
    }
    props = t["Resources"]["Queue"]["Properties"]
    assert props["QueueName"] == {"Fn::Sub": "${AWS::StackName}-queue"}
    tags = {tag["Key"]: tag["Value"] for tag in props["Tags"]}
    assert tags == {
        "ref": {"Ref": "Env"},
        "att": {"Fn::GetAtt": ["Table", "StreamArn"]},
        "dotted": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        "listed": {"Fn::GetAtt": ["Table", "Arn"]},
        "if": {"Fn::If": ["IsProd", "big", "small"]},
        "join": {"Fn::Join": ["", ["a", {"Ref": "Env"}, {"Fn::Sub": ["${x}", {"x": {"Ref": "Env"}}]}]]},
        "select": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
        "azs": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "import": {"Fn::ImportValue": "shared-bucket"},
        "map": {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "memory"]},
        "b64": {"Fn::Base64": "hello"},
        "cidr": {"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}]},
    }
    assert result.stack_name == tmp_path.name.replace("_", "-")  # template.yaml names nothing: its folder does


def test_a_yaml_template_equals_its_json_twin(tmp_path: Path) -> None:
    """YAML and JSON of the same template read the same (the fixture, re-serialized as YAML via JSON flow)."""
    text = (FIXTURE_ASSEMBLY / "Fixture.template.json").read_text()
    yaml_path = _write(tmp_path, "fixture.yml", "# a YAML comment first, then JSON flow style\n" + text)
    assert open_source(SourceSpec("template", yaml_path)).synthesize().template == json.loads(text)


@pytest.mark.parametrize("name, text, line, problem", [
    ("bad.yaml", "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n   Properties: {}\n", 4, "not valid YAML"),
    ("tag.yaml", "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Name: !Frobnicate x\n", 5,
     "unknown intrinsic function tag !Frobnicate"),
    ("dup.yaml", "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n  Q:\n    Type: AWS::SNS::Topic\n", 4,
     "key 'Q' appears twice (first on line 2)"),
    ("getatt.yaml", "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A: !GetAtt Nodot\n", 5,
     "expected Resource.Attribute"),
    ("bad.json", '{\n  "Resources": {\n    "Q": {"Type": "AWS::SQS::Queue",}\n  }\n}\n', 3, "not valid JSON"),
])
def test_a_malformed_file_names_the_file_and_the_line(tmp_path: Path, name: str, text: str, line: int,
                                                      problem: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(SourceError) as err:
        open_source(SourceSpec("template", path)).synthesize()
    msg = str(err.value)
    assert f"{name}, line {line}:" in msg and problem in msg


def test_not_a_template_is_named(tmp_path: Path) -> None:
    for name, text, problem in [
        ("list.yaml", "- a\n- b\n", "must be a mapping at the top level"),
        ("nores.yaml", "Outputs: {}\n", "Resources must be a non-empty mapping"),
        ("dup.json", '{"Resources": {"Q": {"Type": "A"}, "Q": {"Type": "B"}}}', "key 'Q' appears twice"),
    ]:
        with pytest.raises(SourceError, match=f"{name}: .*{problem}"):
            open_source(SourceSpec("template", _write(tmp_path, name, text))).synthesize()
    with pytest.raises(SourceError, match="no such file"):
        open_source(SourceSpec("template", tmp_path / "missing.yaml"))


def test_a_transform_other_than_sam_is_refused(tmp_path: Path) -> None:
    text = "Transform: AWS::LanguageExtensions\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    path = _write(tmp_path, "t.yaml", text)
    with pytest.raises(SourceError, match="Transform AWS::LanguageExtensions cannot be expanded offline"):
        open_source(SourceSpec("template", path)).synthesize()


def test_a_template_takes_no_context(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.yaml", "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    with pytest.raises(SourceError, match="takes no CDK context"):
        open_source(SourceSpec("template", path)).synthesize({"batchSize": 1})


def test_default_stack_names_are_valid(tmp_path: Path) -> None:
    assert default_stack_name(tmp_path / "my_app" / "template.yaml") == "my-app"
    assert default_stack_name(tmp_path / "orders.stack.yaml") == "orders-stack"
    assert default_stack_name(tmp_path / "1st.json") == "Stack-1st"
