"""SAM templates, translated offline: events, Globals, layers, local code, and no AWS call."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.session
import pytest

from harness.deploy.resources.awslambda import asset_dir
from harness.deploy.sources import SourceError, SourceSpec, SynthResult, open_source
from harness.deploy.sources.sam import PLACEHOLDER_BUCKET

SAM = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    CodeUri: src/shared
    Timeout: 10
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
  Failures:
    Type: AWS::S3::Bucket
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/consumer/
      Handler: app.handler
      Layers: [!Ref Deps]
      Events:
        Stream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 7
            BisectBatchOnFunctionError: true
            MaximumRetryAttempts: 2
            MaximumRecordAgeInSeconds: 600
            FunctionResponseTypes: [ReportBatchItemFailures]
            DestinationConfig:
              OnFailure:
                Destination: !GetAtt Failures.Arn
  FailureHandler:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Events:
        Created:
          Type: S3
          Properties:
            Bucket: !Ref Failures
            Events: s3:ObjectCreated:*
            Filter: {S3Key: {Rules: [{Name: prefix, Value: aws/lambda/}]}}
  Deps:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer
"""


def _project(tmp_path: Path, text: str = SAM) -> Path:
    for folder in ("src/consumer", "src/shared", "layer/python"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "src/consumer/app.py").write_text("def handler(event, context):\n    return {}\n")
    (tmp_path / "src/shared/app.py").write_text("def handler(event, context):\n    return {}\n")
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No region, a profile that does not exist, and any client creation fails the test."""
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile-anywhere")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")

    def trap(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"SAM translation made an AWS client: {args!r}")

    monkeypatch.setattr(boto3, "client", trap)
    monkeypatch.setattr(boto3.session.Session, "client", trap)
    monkeypatch.setattr(botocore.session.Session, "create_client", trap)


def _translate(path: Path) -> SynthResult:
    return open_source(SourceSpec("template", path)).synthesize()


def _of_type(result: SynthResult, rtype: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in result.template["Resources"].items() if r["Type"] == rtype}


def test_a_dynamodb_stream_event_becomes_a_function_and_its_mapping(tmp_path: Path, no_aws: None) -> None:
    result = _translate(_project(tmp_path))
    assert "Transform" not in result.template and result.source_label.startswith("SAM template ")
    consumer = result.template["Resources"]["Consumer"]
    assert consumer["Type"] == "AWS::Lambda::Function"
    assert consumer["Properties"]["Runtime"] == "python3.12" and consumer["Properties"]["Timeout"] == 10  # Globals
    assert consumer["Metadata"]["aws:asset:path"] == str((tmp_path / "src/consumer").resolve())
    code = asset_dir(SimpleNamespace(assembly_dir=result.assembly_dir), "Consumer", consumer)  # the deployer's lookup
    assert (code / "app.py").is_file()
    [(mid, mapping)] = _of_type(result, "AWS::Lambda::EventSourceMapping").items()
    assert mapping["Properties"] == {
        "EventSourceArn": {"Fn::GetAtt": ["Table", "StreamArn"]},
        "FunctionName": {"Ref": "Consumer"},
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 7,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 2,
        "MaximumRecordAgeInSeconds": 600,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Failures", "Arn"]}}},
    }
    role = result.template["Resources"][consumer["Properties"]["Role"]["Fn::GetAtt"][0]]
    assert any("AWSLambdaDynamoDBExecutionRole" in arn for arn in role["Properties"]["ManagedPolicyArns"])


def test_a_global_code_uri_and_a_layer_keep_their_local_folders(tmp_path: Path, no_aws: None) -> None:
    result = _translate(_project(tmp_path))
    handler = result.template["Resources"]["FailureHandler"]
    assert handler["Metadata"]["aws:asset:path"] == str((tmp_path / "src/shared").resolve())  # Globals.Function.CodeUri
    assert handler["Properties"]["Code"]["S3Bucket"] == PLACEHOLDER_BUCKET
    [(layer_id, layer)] = _of_type(result, "AWS::Lambda::LayerVersion").items()
    assert layer["Metadata"] == {"aws:asset:path": str((tmp_path / "layer").resolve()), "aws:asset:property": "Content"}
    assert result.template["Resources"]["Consumer"]["Properties"]["Layers"] == [{"Ref": layer_id}]
    assert any("stubbed" in note for note in result.notes)


def test_an_s3_event_becomes_the_buckets_notification_configuration(tmp_path: Path, no_aws: None) -> None:
    result = _translate(_project(tmp_path))
    bucket = result.template["Resources"]["Failures"]
    assert bucket["Properties"]["NotificationConfiguration"] == {"LambdaConfigurations": [{
        "Event": "s3:ObjectCreated:*",
        "Function": {"Fn::GetAtt": ["FailureHandler", "Arn"]},
        "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "aws/lambda/"}]}},
    }]}
    permissions = _of_type(result, "AWS::Lambda::Permission").values()
    assert [p["Properties"]["Principal"] for p in permissions] == ["s3.amazonaws.com"]


def test_transform_as_a_list_and_ignore_globals(tmp_path: Path, no_aws: None) -> None:
    text = SAM.replace("Transform: AWS::Serverless-2016-10-31", "Transform: [AWS::Serverless-2016-10-31]")
    text = text.replace("  Deps:\n", "  Inline:\n    Type: AWS::Serverless::Function\n    IgnoreGlobals: [CodeUri]\n"
                                     "    Properties:\n      Handler: index.handler\n"
                                     "      InlineCode: \"def handler(e, c): return 1\"\n  Deps:\n")
    result = _translate(_project(tmp_path, text))
    inline = result.template["Resources"]["Inline"]
    assert inline["Properties"]["Code"] == {"ZipFile": "def handler(e, c): return 1"} and "Metadata" not in inline


def test_a_missing_code_folder_is_named(tmp_path: Path, no_aws: None) -> None:
    path = _project(tmp_path, SAM.replace("CodeUri: src/consumer/", "CodeUri: src/gone"))
    with pytest.raises(SourceError, match=r"template.yaml: Consumer.CodeUri 'src/gone': no such folder"):
        _translate(path)
    path = _project(tmp_path / "g", SAM.replace("CodeUri: src/shared", "CodeUri: lost"))
    with pytest.raises(SourceError, match=r"Globals.Function.CodeUri 'lost': no such folder"):
        _translate(path)


def test_an_invalid_sam_template_is_named(tmp_path: Path, no_aws: None) -> None:
    path = _project(tmp_path, SAM.replace("            Stream: !GetAtt Table.StreamArn\n", ""))
    with pytest.raises(SourceError, match=r"template.yaml: not a valid SAM template: .*Consumer.*Stream"):
        _translate(path)


def test_a_repository_application_is_refused(tmp_path: Path, no_aws: None) -> None:
    text = SAM + ("  App:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location:\n"
                  "        ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/x\n"
                  "        SemanticVersion: 1.0.0\n")
    with pytest.raises(SourceError, match="App .* Serverless Application Repository"):
        _translate(_project(tmp_path, text))
