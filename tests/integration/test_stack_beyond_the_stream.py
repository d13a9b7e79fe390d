"""A stack as teams write it, around its stream: an API in front of the table, a state machine the
consumer starts, a custom resource with its own provider function, and a resource the embedded
backend does not serve. Before, the API's Lambda permission alone made the deploy refuse
everything (UnsupportedResourceError); now every resource is created or stood in for, the custom
resource runs the way CloudFormation runs it, and a call to a stood-in resource gets the
service's own error."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from harness.deploy.sources import SourceSpec, open_source
from harness.pipeline import LocalPipeline

pytestmark = pytest.mark.timeout(300)

# A provider written the way teams write one: cfn-response style, a PUT of the answer to ResponseURL.
PROVIDER = textwrap.dedent("""
    import json, urllib.request

    def handler(event, context):
        props = event["ResourceProperties"]
        answer = {"Status": "SUCCESS", "PhysicalResourceId": "greeting-" + props["Name"],
                  "StackId": event["StackId"], "RequestId": event["RequestId"],
                  "LogicalResourceId": event["LogicalResourceId"], "Data": {"Text": "hello " + props["Name"]}}
        request = urllib.request.Request(event["ResponseURL"], data=json.dumps(answer).encode(), method="PUT",
                                         headers={"Content-Type": ""})
        urllib.request.urlopen(request, timeout=5).close()
""")

CONSUMER = textwrap.dedent("""
    import json, os, boto3

    def handler(event, context):
        execution = boto3.client("stepfunctions").start_execution(
            stateMachineArn=os.environ["MACHINE"], input=json.dumps({"greeting": os.environ["GREETING"]}))
        try:
            boto3.client("pipes").describe_pipe(Name=os.environ["PIPE"])
            pipe_error = None
        except boto3.client("pipes").exceptions.NotFoundException as exc:
            pipe_error = exc.response["Error"]["Code"]
        return {"execution": execution["executionArn"], "pipe_error": pipe_error}
""")

ROLE = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}}]}}}


def _function(code: str, env: dict | None = None) -> dict:
    props = {"Handler": "index.handler", "Runtime": "python3.12", "Timeout": 10, "Code": {"ZipFile": code},
             "Role": {"Fn::GetAtt": ["Role", "Arn"]}}
    if env:
        props["Environment"] = {"Variables": env}
    return {"Type": "AWS::Lambda::Function", "Properties": props}


TEMPLATE = {"Resources": {
    "Role": ROLE,
    "Orders": {"Type": "AWS::DynamoDB::Table", "Properties": {
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST", "StreamSpecification": {"StreamViewType": "NEW_IMAGE"}}},
    "Provider": _function(PROVIDER),
    "Greeting": {"Type": "Custom::Greeting", "Properties": {
        "ServiceToken": {"Fn::GetAtt": ["Provider", "Arn"]}, "Name": "orders"}},
    "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
        "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
        "Definition": {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}}},
    "Pipe": {"Type": "AWS::Pipes::Pipe", "Properties": {
        "Source": {"Fn::GetAtt": ["Orders", "StreamArn"]}, "Target": "arn:aws:sqs:us-east-1:123456789012:x",
        "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}},
    "Consumer": _function(CONSUMER, {"MACHINE": {"Ref": "Machine"}, "PIPE": {"Ref": "Pipe"},
                                     "GREETING": {"Fn::GetAtt": ["Greeting", "Text"]}}),
    "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Body": {
        "swagger": "2.0", "info": {"title": "orders"},
        "paths": {"/orders": {"post": {"x-amazon-apigateway-integration": {
            "type": "aws_proxy", "httpMethod": "POST",
            "uri": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                               "${Consumer.Arn}/invocations"}}}}}}}},
    "ApiDeployment": {"Type": "AWS::ApiGateway::Deployment", "Properties": {"RestApiId": {"Ref": "Api"}}},
    "ApiStage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
        "RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "ApiDeployment"}, "StageName": "Prod"}},
    "ApiPermission": {"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "Consumer"}, "Principal": "apigateway.amazonaws.com",
        "SourceArn": {"Fn::Sub": "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/POST/orders"}}},
    "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
        "FunctionName": {"Ref": "Consumer"}, "EventSourceArn": {"Fn::GetAtt": ["Orders", "StreamArn"]},
        "StartingPosition": "TRIM_HORIZON"}},
}, "Outputs": {"Url": {"Value": {"Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/Prod/"}}}}


def test_api_state_machine_and_custom_resource_deploy_and_work(tmp_path: Path) -> None:
    template = tmp_path / "stack.template.json"
    template.write_text(json.dumps(TEMPLATE))
    source = open_source(SourceSpec("template", template), cache_dir=tmp_path / "synth")
    with LocalPipeline(journal_path=tmp_path / "journal.jsonl") as pipe:
        stack = pipe.deploy(source=source, start_polling=False)
        # Only the pipe is stood in for; the API, the machine and the custom resource are real.
        assert list(stack.stood_in) == ["Pipe"]
        api = stack.resources["Api"].physical_id
        assert pipe.backend.client("apigateway").get_stage(restApiId=api, stageName="Prod")
        assert pipe.output("Url") == f"https://{api}.execute-api.us-east-1.amazonaws.com/Prod/"
        # The custom resource ran its provider: Ref and GetAtt come from the provider's answer.
        assert stack.resources["Greeting"].physical_id == "greeting-orders"
        (custom,) = pipe.journal.entries("custom_resource")
        assert custom["status"] == "SUCCESS"
        consumer = stack.functions["Consumer"]
        result = pipe.runtime.invoke(consumer, b"{}")
        assert result.function_error is None, result.payload
        answer = json.loads(result.payload)
        assert answer["pipe_error"] == "NotFoundException"  # the service's own error for a stood-in resource
        sfn = pipe.backend.client("stepfunctions")
        for _ in range(100):
            execution = sfn.describe_execution(executionArn=answer["execution"])
            if execution["status"] != "RUNNING":
                break
            time.sleep(0.05)
        assert execution["status"] == "SUCCEEDED"
        assert json.loads(execution["output"]) == {"greeting": "hello orders"}
        notes = [e["note"] for e in pipe.journal.entries("deploy_note") if e.get("stood_in")]
        assert notes == [f"stood in: AWS::Pipes::Pipe {stack.stood_in['Pipe'].reason}"]
