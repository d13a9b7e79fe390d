"""`shardproof describe` and `shardproof lint` over a stack source given by flag: text, JSON, --strict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main

TEMPLATE = {
    "Resources": {
        "Orders": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        "Consumer": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "app.handler", "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"ZipFile": "def handler(e, c):\n    return None\n"}}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["Orders", "StreamArn"]}, "FunctionName": {"Ref": "Consumer"},
            "StartingPosition": "LATEST"}},
    }
}


@pytest.fixture
def template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no project file: the flag names the stack
    path = tmp_path / "template.json"
    path.write_text(json.dumps(TEMPLATE))
    return path


def test_describe_shows_the_pipeline_as_deployed(template: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "--template", str(template)]) == 0
    out = capsys.readouterr().out
    assert "Pipeline Mapping (Orders -> Consumer)" in out and "NEW_IMAGE, key PK" in out
    assert "MaximumRetryAttempts            -1" in out  # the AWS default, filled in (spec 7.1)
    assert main(["describe", "--template", str(template), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pipelines"][0]["mapping"]["settings"]["StartingPosition"] == "LATEST"


def test_spec_1_and_3_lint_warns_and_strict_fails(template: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--template", str(template)]) == 0
    out = capsys.readouterr().out
    assert "[unbounded-retries] Mapping" in out and "[no-on-failure-destination] Mapping" in out
    assert main(["lint", "--template", str(template), "--strict"]) == 1
    assert "lint --strict: 2 finding(s)" in capsys.readouterr().err
    assert main(["lint", "--template", str(template), "--json"]) == 0
    assert {f["rule"] for f in json.loads(capsys.readouterr().out)} == {"unbounded-retries", "no-on-failure-destination"}


def test_a_bad_source_is_one_line_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["describe", "--template", "nope.yaml"]) == 2
    assert "--template nope.yaml" in capsys.readouterr().err
    (tmp_path / "t.json").write_text(json.dumps(TEMPLATE))
    assert main(["describe", "--template", "t.json", "-c", "batchSize=5"]) == 2  # context needs a CDK app
    assert "context" in capsys.readouterr().err


def test_describe_and_lint_work_before_any_scenario_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A new project names its scenarios folder before writing one: describe and lint must not care;
    the commands that read scenarios name the missing folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "template.json").write_text(json.dumps(TEMPLATE))
    (tmp_path / "shardproof.toml").write_text('template = "template.json"\nscenarios = "scenarios"\n')
    assert main(["describe"]) == 0
    assert "Pipeline Mapping (Orders -> Consumer)" in capsys.readouterr().out
    assert main(["lint"]) == 0
    assert "[unbounded-retries] Mapping" in capsys.readouterr().out
    assert main(["scenarios", "list"]) != 0
    assert f"{tmp_path / 'scenarios'}" in capsys.readouterr().err


def test_describe_and_lint_name_the_resources_a_local_deploy_stands_in_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"Resources": {**TEMPLATE["Resources"],
                                              "Cdn": {"Type": "AWS::CloudFront::Distribution", "Properties": {}}}}))
    assert main(["describe", "--template", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Stood in for locally (1)" in out and "  - Cdn (AWS::CloudFront::Distribution)" in out
    assert main(["lint", "--template", str(path)]) == 0  # a stand-in is said, not a finding (--strict unaffected)
    out = capsys.readouterr().out
    assert "[no-on-failure-destination] Mapping" in out and "  - Cdn (AWS::CloudFront::Distribution)" in out
