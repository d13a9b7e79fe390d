"""The resources around a stream pipeline that real stacks carry (APIs, state machines, secrets, log
groups, custom resources): each is created on the embedded backend or stood in for, and none of
them can refuse the deploy."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

from harness.deploy import apply_template
from harness.invoke import InvokeResult

ASSEMBLY = Path(__file__).parent / "fixtures" / "assembly"
ACCOUNT = "123456789012"


def deploy(backend: Any, fakes: dict[str, Any], resources: dict[str, Any], journal: Any = None, **extra: Any) -> Any:
    template = {"Resources": resources, **extra}
    return apply_template(template, stack_name="Unit", assembly_dir=ASSEMBLY, backend=backend, journal=journal, **fakes)


FUNCTION = {"Type": "AWS::Lambda::Function", "Properties": {
    "Handler": "index.handler", "Runtime": "python3.12", "Code": {"ZipFile": "def handler(e, c): return {}"}}}


# -- API Gateway --------------------------------------------------------------------------------------


def test_a_sam_rest_api_with_its_body_deployment_stage_and_permission(backend: Any, fakes: dict, journal: Any) -> None:
    """What SAM's `Events: Api` translates to; the Permission's SourceArn needs the RestApi's Ref (this
    used to raise UnsupportedResourceError and deploy nothing)."""
    uri = {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Producer.Arn}/invocations"}
    stack = deploy(backend, fakes, {
        "Producer": FUNCTION,
        "ServerlessRestApi": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Body": {
            "info": {"version": "1.0", "title": {"Ref": "AWS::StackName"}}, "swagger": "2.0",
            "paths": {"/items": {"post": {"x-amazon-apigateway-integration": {
                "httpMethod": "POST", "type": "aws_proxy", "uri": uri}, "responses": {}}}}}}},
        "Deployment": {"Type": "AWS::ApiGateway::Deployment", "Properties": {
            "RestApiId": {"Ref": "ServerlessRestApi"}, "StageName": "Stage"}},
        "ProdStage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "RestApiId": {"Ref": "ServerlessRestApi"}, "DeploymentId": {"Ref": "Deployment"}, "StageName": "Prod"}},
        "Permission": {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "Producer"}, "Principal": "apigateway.amazonaws.com",
            "SourceArn": {"Fn::Sub": "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${ServerlessRestApi}/*/POST/items"}}},
    }, journal, Outputs={"Url": {"Value": {"Fn::Sub": "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/"}}})
    api_id = stack.resources["ServerlessRestApi"].physical_id
    client = backend.client("apigateway")
    api = client.get_rest_api(restApiId=api_id)
    assert api["name"] == "Unit"
    paths = {r["path"]: r for r in client.get_resources(restApiId=api_id)["items"]}
    assert "/items" in paths and "POST" in paths["/items"]["resourceMethods"]
    assert stack.resources["ServerlessRestApi"].attributes["RootResourceId"] == paths["/"]["id"]
    assert client.get_stage(restApiId=api_id, stageName="Prod")["deploymentId"] == stack.resources["Deployment"].physical_id
    assert stack.stood_in == {}
    assert stack.outputs["Url"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/Prod/"
    (permission,) = [e for e in journal.entries("deploy_note") if e["logical_id"] == "Permission"]
    assert permission["source_arn"] == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*/POST/items"


def test_rest_api_resource_and_method_with_an_integration(backend: Any, fakes: dict) -> None:
    stack = deploy(backend, fakes, {
        "Producer": FUNCTION,
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "orders"}},
        "Orders": {"Type": "AWS::ApiGateway::Resource", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]}, "PathPart": "orders"}},
        "Post": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": "Orders"}, "HttpMethod": "POST",
            "AuthorizationType": "NONE", "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST",
                                                         "Uri": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:"
                                                                 "path/2015-03-31/functions/${Producer.Arn}/invocations"}}}},
    })
    api, orders = stack.resources["Api"].physical_id, stack.resources["Orders"].physical_id
    method = backend.client("apigateway").get_method(restApiId=api, resourceId=orders, httpMethod="POST")
    assert method["methodIntegration"]["type"] == "AWS_PROXY"
    assert stack.resources["Orders"].attributes == {"ResourceId": orders} and stack.stood_in == {}


def test_http_api_integration_route_and_stage(backend: Any, fakes: dict) -> None:
    stack = deploy(backend, fakes, {
        "Producer": FUNCTION,
        "Http": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "orders", "ProtocolType": "HTTP"}},
        "Integ": {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {
            "ApiId": {"Ref": "Http"}, "IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0",
            "IntegrationUri": {"Fn::GetAtt": ["Producer", "Arn"]}}},
        "Route": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {
            "ApiId": {"Ref": "Http"}, "RouteKey": "POST /orders", "Target": {"Fn::Sub": "integrations/${Integ}"}}},
        "Default": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {
            "ApiId": {"Ref": "Http"}, "StageName": "$default", "AutoDeploy": True}},
    }, Outputs={"Endpoint": {"Value": {"Fn::GetAtt": ["Http", "ApiEndpoint"]}}})
    api = stack.resources["Http"].physical_id
    client = backend.client("apigatewayv2")
    (route,) = client.get_routes(ApiId=api)["Items"]
    assert route["RouteKey"] == "POST /orders" and route["Target"] == f"integrations/{stack.resources['Integ'].physical_id}"
    assert client.get_stage(ApiId=api, StageName="$default")["AutoDeploy"] is True
    assert api in stack.outputs["Endpoint"] and stack.outputs["Endpoint"].startswith("https://")


def test_an_api_piece_the_backend_refuses_is_stood_in_for_not_fatal(backend: Any, fakes: dict, journal: Any) -> None:
    stack = deploy(backend, fakes, {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "x"}},
        "Orphan": {"Type": "AWS::ApiGateway::Resource", "Properties": {
            "RestApiId": "doesnotexist", "ParentId": "nope", "PathPart": "orders"}},
    }, journal)
    assert list(stack.stood_in) == ["Orphan"] and "refused by the backend" in stack.stood_in["Orphan"].reason


# -- Step Functions -----------------------------------------------------------------------------------


def _execution(backend: Any, machine: str, payload: dict) -> dict:
    sfn = backend.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))["executionArn"]
    for _ in range(100):
        done = sfn.describe_execution(executionArn=arn)
        if done["status"] != "RUNNING":
            return done
        time.sleep(0.05)
    return done


def test_state_machine_with_substitutions_runs_a_started_execution(backend: Any, fakes: dict) -> None:
    """A consumer calling StartExecution gets an execution that runs: a Pass machine succeeds."""
    stack = deploy(backend, fakes, {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "states.amazonaws.com"}}]}}},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
            "DefinitionString": '{"StartAt":"Tag","States":{"Tag":{"Type":"Pass","Result":"${Label}","ResultPath":"$.label","End":true}}}',
            "DefinitionSubstitutions": {"Label": "shipped"}}},
    }, Outputs={"Name": {"Value": {"Fn::GetAtt": ["Machine", "Name"]}}})
    machine = stack.resources["Machine"].physical_id
    assert re.fullmatch(rf"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:Unit-Machine-[A-Z0-9]+", machine)
    assert stack.outputs["Name"] == machine.rsplit(":", 1)[1]
    done = _execution(backend, machine, {"order": 7})
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"order": 7, "label": "shipped"}
    # A consumer starts one unnamed execution per record: each gets its own generated name, as on AWS
    # (moto's interpreter named them all "None", so the second failed with ExecutionAlreadyExists).
    again = _execution(backend, machine, {"order": 8})
    assert again["executionArn"] != done["executionArn"] and again["status"] == "SUCCEEDED"
    assert re.fullmatch(r"[0-9a-f-]{36}", again["executionArn"].rsplit(":", 1)[1])


def test_state_machine_definition_object_and_activity(backend: Any, fakes: dict) -> None:
    stack = deploy(backend, fakes, {
        "Work": {"Type": "AWS::StepFunctions::Activity", "Properties": {"Name": "work"}},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "StateMachineName": "named", "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
            "Definition": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 0, "End": True}}}}},
    })
    assert stack.resources["Machine"].physical_id.endswith(":stateMachine:named")
    assert stack.resources["Work"].physical_id == f"arn:aws:states:us-east-1:{ACCOUNT}:activity:work"


# -- Secrets Manager, log groups ---------------------------------------------------------------------------


def test_secret_with_a_value_and_a_generated_one(backend: Any, fakes: dict) -> None:
    stack = deploy(backend, fakes, {
        "Given": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "api-key", "SecretString": "s3cr3t"}},
        "Made": {"Type": "AWS::SecretsManager::Secret", "Properties": {"GenerateSecretString": {
            "SecretStringTemplate": '{"username": "app"}', "GenerateStringKey": "password", "PasswordLength": 20,
            "ExcludePunctuation": True}}},
    })
    sm = backend.client("secretsmanager")
    assert sm.get_secret_value(SecretId=stack.resources["Given"].physical_id)["SecretString"] == "s3cr3t"
    made = json.loads(sm.get_secret_value(SecretId=stack.resources["Made"].physical_id)["SecretString"])
    assert made["username"] == "app" and len(made["password"]) == 20
    assert stack.resources["Made"].physical_id.startswith(f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:Made-")


def test_log_group_is_created_with_its_retention(backend: Any, fakes: dict) -> None:
    stack = deploy(backend, fakes, {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": "/aws/lambda/consumer", "RetentionInDays": 7}}})
    (group,) = backend.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/consumer")["logGroups"]
    assert group["retentionInDays"] == 7 and stack.resources["Logs"].physical_id == "/aws/lambda/consumer"


# -- custom resources ----------------------------------------------------------------------------------


class InvokingRuntime:
    """A runtime that has the provider function and answers its invoke with `answer(event)`."""

    def __init__(self, answer: Any) -> None:
        self.specs: list[Any] = []
        self.events: list[dict] = []
        self.answer = answer

    def register(self, spec: Any) -> None:
        self.specs.append(spec)

    def functions(self) -> list[Any]:
        return list(self.specs)

    def invoke(self, name: str, payload: bytes) -> InvokeResult:
        event = json.loads(payload)
        self.events.append(event)
        body, error = self.answer(event)
        return InvokeResult(200, json.dumps(body).encode(), error, "req-1")


def _put(url: str, document: dict) -> None:
    request = urllib.request.Request(url, data=json.dumps(document).encode(), method="PUT")
    with urllib.request.urlopen(request, timeout=5):
        pass


def _custom_stack(resource_type: str = "Custom::Lookup") -> dict:
    return {
        "Provider": FUNCTION,
        "Lookup": {"Type": resource_type, "Properties": {
            "ServiceToken": {"Fn::GetAtt": ["Provider", "Arn"]}, "Key": "colour"}},
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Join": ["-", [
            "q", {"Fn::GetAtt": ["Lookup", "Value"]}]]}}},
    }


def test_custom_resource_runs_its_provider_and_reads_the_response_url(backend: Any, fakes: dict, journal: Any) -> None:
    """As CloudFormation does: a Create request, the answer PUT to ResponseURL; Ref and GetAtt read it."""
    def answer(event: dict) -> tuple[dict, None]:
        _put(event["ResponseURL"], {"Status": "SUCCESS", "PhysicalResourceId": "lookup-1", "StackId": event["StackId"],
                                    "RequestId": event["RequestId"], "LogicalResourceId": event["LogicalResourceId"],
                                    "Data": {"Value": event["ResourceProperties"]["Key"].upper()}})
        return {}, None

    runtime = InvokingRuntime(answer)
    stack = deploy(backend, {**fakes, "runtime": runtime}, _custom_stack(), journal)
    (event,) = runtime.events
    assert event["RequestType"] == "Create" and event["ResourceType"] == "Custom::Lookup"
    assert event["LogicalResourceId"] == "Lookup" and event["ResourceProperties"]["Key"] == "colour"
    assert event["StackId"].startswith(f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/Unit/")
    assert stack.resources["Lookup"].physical_id == "lookup-1" and stack.resources["Q"].attributes["QueueName"] == "q-COLOUR"
    assert stack.stood_in == {}
    (entry,) = journal.entries("custom_resource")
    assert entry["status"] == "SUCCESS" and entry["provider"] == "Unit-Provider"


def test_custom_resource_provider_framework_answer_is_read_from_the_invoke_result(backend: Any, fakes: dict) -> None:
    runtime = InvokingRuntime(lambda event: ({"PhysicalResourceId": "pf-1", "Data": {"Value": "red"}}, None))
    stack = deploy(backend, {**fakes, "runtime": runtime}, _custom_stack("AWS::CloudFormation::CustomResource"))
    assert stack.resources["Lookup"].physical_id == "pf-1" and stack.resources["Q"].attributes["QueueName"] == "q-red"


def test_a_failing_provider_is_a_note_and_a_stand_in_never_a_failed_deploy(backend: Any, fakes: dict,
                                                                          journal: Any) -> None:
    """CDK's LogRetention provider failing its init (a missing SDK client) used to be noise in a run."""
    error = {"errorType": "Runtime.ImportModuleError",
             "errorMessage": "Error: Cannot find module '@aws-sdk/client-cloudwatch-logs'"}
    runtime = InvokingRuntime(lambda event: (error, "Unhandled"))
    stack = deploy(backend, {**fakes, "runtime": runtime}, _custom_stack("Custom::LogRetention"), journal)
    assert list(stack.stood_in) == ["Lookup"]
    assert "did not create it" in stack.stood_in["Lookup"].reason and "ImportModuleError" in stack.stood_in["Lookup"].reason
    assert stack.resources["Q"].attributes["QueueName"].startswith("q-Unit-Lookup-")  # GetAtt Value still has a value
    (entry,) = journal.entries("custom_resource")
    assert entry["status"] == "FAILED"


def test_custom_resource_whose_provider_is_not_local_is_stood_in_for(backend: Any, fakes: dict) -> None:
    resources = _custom_stack()
    resources["Lookup"]["Properties"]["ServiceToken"] = f"arn:aws:sns:us-east-1:{ACCOUNT}:provider-topic"
    stack = deploy(backend, fakes, resources)
    assert "provider" in stack.stood_in["Lookup"].reason and "not a function of this stack" in stack.stood_in["Lookup"].reason


def test_a_cdk_handler_that_cannot_reach_port_443_is_named_for_that(backend: Any, fakes: dict) -> None:
    """CDK's handlers (LogRetention, the Provider framework) PUT with `https` to the URL's host on
    port 443; the note says that the answer, not the work, is what failed."""
    error = {"errorType": "Error", "errorMessage": "connect ECONNREFUSED 127.0.0.1:443"}
    runtime = InvokingRuntime(lambda event: (error, "Unhandled"))
    stack = deploy(backend, {**fakes, "runtime": runtime}, _custom_stack("Custom::LogRetention"))
    assert "could not send its answer" in stack.stood_in["Lookup"].reason


SAM_HTTP_API_AND_MACHINE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Events:
        Get:
          Type: HttpApi
          Properties: {Path: /items, Method: get}
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: {StartAt: P, States: {P: {Type: Pass, End: true}}}
      Policies: [LambdaInvokePolicy: {FunctionName: !Ref Fn}]
"""


def test_sam_http_api_and_state_machine_deploy_with_nothing_stood_in(backend: Any, fakes: dict, tmp_path: Path) -> None:
    from harness.deploy.sources import SourceSpec, open_source

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(e, c):\n    return {}\n")
    (tmp_path / "template.yaml").write_text(SAM_HTTP_API_AND_MACHINE)
    synth = open_source(SourceSpec("template", tmp_path / "template.yaml"), cache_dir=tmp_path / "cache").synthesize(None)
    stack = apply_template(synth.template, stack_name=synth.stack_name, assembly_dir=synth.assembly_dir,
                           backend=backend, **fakes)
    assert stack.stood_in == {}
    (route,) = backend.client("apigatewayv2").get_routes(ApiId=stack.resources["ServerlessHttpApi"].physical_id)["Items"]
    assert route["RouteKey"] == "GET /items"
    assert ":stateMachine:" in stack.resources["Machine"].physical_id


def test_a_task_state_reaches_the_stacks_own_queue(backend: Any, fakes: dict) -> None:
    """moto's interpreter sends a Task's service call to localhost:$MOTO_PORT; the embedded backend
    points that at itself, so an SQS sendMessage task lands in the stack's queue."""
    stack = deploy(backend, fakes, {
        "Shipments": {"Type": "AWS::SQS::Queue"},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
            "DefinitionString": {"Fn::Sub": json.dumps({"StartAt": "Send", "States": {"Send": {
                "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True,
                "Parameters": {"QueueUrl": "${Shipments}", "MessageBody.$": "$.order"}}}})}}},
    })
    done = _execution(backend, stack.resources["Machine"].physical_id, {"order": "o-9"})
    assert done["status"] == "SUCCEEDED", done
    messages = backend.client("sqs").receive_message(QueueUrl=stack.resources["Shipments"].physical_id,
                                                     WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in messages] == ["o-9"]
