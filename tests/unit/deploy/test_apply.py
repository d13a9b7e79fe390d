"""apply_template end to end on a real CDK-synthesized template, and validation before creation."""

from __future__ import annotations


import copy
import re
from pathlib import Path
from typing import Any

import pytest

from harness.deploy import (
    DependencyCycleError,
    DeployedStack,
    DeployError,
    IntrinsicError,
    apply_template,
)

ASSEMBLY = Path(__file__).parent / "fixtures" / "assembly"
TABLE = {"Type": "AWS::DynamoDB::Table", "Properties": {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}}


def apply(template: dict, backend: Any, fakes: dict, journal: Any = None, **kw: Any) -> DeployedStack:
    return apply_template(template, stack_name=kw.pop("stack_name", "Fixture"), assembly_dir=ASSEMBLY,
                          backend=backend, journal=journal, **fakes, **kw)


def table_names(backend: Any) -> set[str]:
    return set(backend.client("dynamodb").list_tables()["TableNames"])


def test_synthesized_cdk_template_deploys_end_to_end(backend: Any, fakes: dict, journal: Any,
                                                     fixture_template: dict) -> None:
    stack = apply(fixture_template, backend, fakes, journal)
    out = stack.outputs
    ddb = backend.client("dynamodb").describe_table(TableName=out["SourceTableName"])["Table"]
    assert ddb["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert out["SourceTableStreamArn"] == ddb["LatestStreamArn"]
    assert backend.client("s3").head_bucket(Bucket=out["FailureBucketName"])
    backend.client("s3").put_object(Bucket=out["FailureBucketName"], Key="aws/lambda/probe", Body=b"{}")  # writable
    assert backend.client("sns").get_topic_attributes(TopicArn=out["AlertTopicArn"])
    assert out["Region"] == "us-east-1-123456789012"
    # Functions: the two asset functions, not CDK's notification provider.
    assert sorted(stack.functions) == ["Consumer8D6BE417", "FailureHandler8F8A908C"]
    consumer = fakes["runtime"].by_name(out["ConsumerFunctionName"])
    assert (consumer.code_dir / "app.py").exists() and consumer.timeout_s == 5.0
    assert consumer.environment["TABLE"] == out["SourceTableName"]
    # The mapping reached the ESM engine with resolved ARNs and the CloudFormation settings.
    (esm_call,) = fakes["esm"].calls
    assert esm_call["FunctionName"] == out["ConsumerFunctionName"]
    assert esm_call["EventSourceArn"] == out["SourceTableStreamArn"]
    assert esm_call["DestinationConfig"] == {"OnFailure": {"Destination": f"arn:aws:s3:::{out['FailureBucketName']}"}}
    assert esm_call["BisectBatchOnFunctionError"] is True and esm_call["MaximumRetryAttempts"] == 2
    assert out["EventSourceMappingId"] == next(iter(stack.mappings.values()))
    # Notifications: the failure handler, filtered to the ESM key prefix.
    (bucket, config), = fakes["notifications"].calls
    rule = config["LambdaFunctionConfigurations"][0]
    assert bucket == out["FailureBucketName"]
    assert rule["LambdaFunctionArn"].endswith(":function:Fixture-FailureHandler8F8A908C")
    assert rule["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "aws/lambda/"}]
    # Journal: one deploy entry per resource plus one for the stack; SSM parameter and rule noted.
    per_resource = journal.entries("deploy", scope="resource")
    assert len(per_resource) == len(fixture_template["Resources"]) == len(stack.resources)
    assert all(e["physical_id"] and e["resource_type"] for e in per_resource)
    (done,) = journal.entries("deploy", scope="stack")
    assert done["status"] == "complete" and done["outputs"] == out
    noted = {e["logical_id"] for e in journal.entries("deploy_note")}
    assert {"BootstrapVersion", "CheckBootstrapVersion"} <= noted


def test_a_resource_type_nothing_creates_is_stood_in_for_with_values_of_its_shape(backend: Any, fakes: dict,
                                                                                   journal: Any) -> None:
    """A function reading an unknown type's ARN (and that type referencing a VPC) used to refuse the
    whole deploy (UnsupportedResourceError); each is stood in for: Ref/GetAtt of the right shape, a note."""
    template = {"Resources": {"T": TABLE, "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {}},
                              "Thing": {"Type": "AWS::Unknown::Thing", "Properties": {"Parent": {"Ref": "Vpc"}}},
                              "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                                  "Handler": "index.h", "Runtime": "python3.11", "Code": {"ZipFile": "x"},
                                  "Environment": {"Variables": {"THING": {"Fn::GetAtt": ["Thing", "Arn"]},
                                                                "VPC": {"Ref": "Vpc"}}}}}}}
    stack = apply(template, backend, fakes, journal)
    assert sorted(stack.stood_in) == ["Thing", "Vpc"]
    assert stack.stood_in["Thing"].resource_type == "AWS::Unknown::Thing" and "not created" in stack.stood_in["Thing"].reason
    env = fakes["runtime"].specs[0].environment
    assert re.fullmatch(r"arn:aws:unknown:us-east-1:123456789012:thing/Fixture-Thing-[A-Z0-9]{12}", env["THING"])
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", env["VPC"]) and stack.resources["Vpc"].physical_id == env["VPC"]
    notes = {e["logical_id"]: e for e in journal.entries("deploy_note") if e.get("stood_in")}
    assert set(notes) == {"Thing", "Vpc"} and notes["Vpc"]["note"].startswith("stood in: AWS::EC2::VPC")
    (done,) = journal.entries("deploy", scope="stack")
    assert done["stood_in"] == ["Thing", "Vpc"]


def test_stood_in_resources_resolve_in_outputs_and_keep_their_properties_unresolved(backend: Any, fakes: dict,
                                                                                    journal: Any) -> None:
    template = {"Resources": {
        "T": TABLE,
        "Dist": {"Type": "AWS::CloudFront::Distribution", "Properties": {
            "DistributionConfig": {"Comment": {"Ref": "SsmOnly"}}}},  # would not resolve: never resolved
        "Q": {"Type": "AWS::SQS::Queue"},
    }, "Parameters": {"SsmOnly": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/x"}},
        "Outputs": {"TableName": {"Value": {"Ref": "T"}},
                    "DistId": {"Value": {"Ref": "Dist"}},
                    "DistDomain": {"Value": {"Fn::GetAtt": ["Dist", "DomainName"]}}}}
    stack = apply(template, backend, fakes, journal)
    assert list(stack.stood_in) == ["Dist"]
    assert re.fullmatch(r"E[A-Z0-9]{13}", stack.outputs["DistId"])
    assert re.fullmatch(r"d[a-z0-9]{13}\.cloudfront\.net", stack.outputs["DistDomain"])
    assert stack.outputs["TableName"] == stack.resources["T"].physical_id


def test_cycle_fails_before_anything_is_created(backend: Any, fakes: dict) -> None:
    before = table_names(backend)
    template = {"Resources": {"T": TABLE,
                              "A": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::GetAtt": ["B", "TopicName"]}}},
                              "B": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::GetAtt": ["A", "TopicName"]}}}}}
    with pytest.raises(DependencyCycleError, match="A -> B -> A"):
        apply(template, backend, fakes)
    assert table_names(backend) == before


@pytest.mark.parametrize("value, fragment", [
    ({"Ref": "Ghost"}, "Q: Properties.DelaySeconds.Ref: unresolvable reference 'Ghost'"),
    ({"Fn::GetAtt": ["T", "Bogus"]}, "Q: Properties.DelaySeconds.Fn::GetAtt: T (AWS::DynamoDB::Table) has no attribute 'Bogus'"),
    ({"Fn::Sub": "${Ghost.Arn}"}, "Q: Properties.DelaySeconds.Fn::Sub.${Ghost.Arn}: unresolvable reference 'Ghost'"),
])
def test_bad_references_fail_before_anything_is_created(backend: Any, fakes: dict, value: Any, fragment: str) -> None:
    before = table_names(backend)
    template = {"Resources": {"T": TABLE, "Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": value}}}}
    with pytest.raises(IntrinsicError) as err:
        apply(template, backend, fakes)
    assert fragment in str(err.value)
    assert table_names(backend) == before


def test_missing_required_property_and_missing_collaborator(backend: Any, fakes: dict) -> None:
    with pytest.raises(DeployError, match=r"T \(AWS::DynamoDB::Table\): missing required properties: KeySchema"):
        apply({"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"AttributeDefinitions": []}}}},
              backend, fakes)
    fakes = {**fakes, "esm": None}
    with pytest.raises(DeployError, match=r"M \(AWS::Lambda::EventSourceMapping\): deploying it needs `esm`"):
        apply({"Resources": {"M": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"FunctionName": "f"}}}},
              backend, fakes)


def test_conditions_and_parameters(backend: Any, fakes: dict, journal: Any) -> None:
    template = {
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}, "Names": {"Type": "CommaDelimitedList", "Default": "a,b"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
        "Resources": {
            "Always": {"Type": "AWS::SNS::Topic", "Properties": {
                "DisplayName": {"Fn::If": ["IsProd", "prod", {"Fn::Select": [1, {"Ref": "Names"}]}]}}},
            "ProdOnly": {"Type": "AWS::SQS::Queue", "Condition": "IsProd"},
        },
        "Outputs": {"Name": {"Value": {"Fn::GetAtt": ["Always", "TopicName"]}},
                    "Queue": {"Condition": "IsProd", "Value": {"Ref": "ProdOnly"}}},
    }
    dev = apply(template, backend, fakes, journal, stack_name="Dev")
    assert dev.skipped == ["ProdOnly"] and "ProdOnly" not in dev.resources and "Queue" not in dev.outputs
    attrs = backend.client("sns").get_topic_attributes(TopicArn=dev.resources["Always"].physical_id)["Attributes"]
    assert attrs["DisplayName"] == "b"
    prod = apply(template, backend, fakes, stack_name="Prod", parameters={"Env": "prod"})
    assert "ProdOnly" in prod.resources and prod.outputs["Queue"] == prod.resources["ProdOnly"].physical_id
    with pytest.raises(DeployError, match="parameters not declared by the template: Typo"):
        apply(template, backend, fakes, parameters={"Typo": "x"})


def test_backend_failure_names_the_resource_and_what_was_left(backend: Any, fakes: dict, journal: Any) -> None:
    template = {"Resources": {
        "First": {"Type": "AWS::SNS::Topic"},
        "Bad": {"Type": "AWS::DynamoDB::Table", "DependsOn": "First", "Properties": {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "AttributeDefinitions": [],
            "BillingMode": "PAY_PER_REQUEST"}}}}
    with pytest.raises(DeployError, match=r"Bad \(AWS::DynamoDB::Table\): creation failed: .*already created and left in place: First"):
        apply(template, backend, fakes, journal)
    (failed,) = journal.entries("deploy_failed")
    assert failed["logical_id"] == "Bad" and failed["created"] == ["First"]


def test_a_deploy_error_while_creating_also_names_what_was_left(backend: Any, fakes: dict, journal: Any) -> None:
    template = {"Mappings": {"Sizes": {"small": {"days": 1}}}, "Resources": {
        "First": {"Type": "AWS::SNS::Topic"},
        "Bad": {"Type": "AWS::SQS::Queue", "DependsOn": "First", "Properties": {
            "MessageRetentionPeriod": {"Fn::FindInMap": ["Sizes", "large", "days"]}}}}}
    with pytest.raises(IntrinsicError, match=r"Bad: .*no 'large' in Sizes \(already created and left in place: First\)"):
        apply(template, backend, fakes, journal)
    (failed,) = journal.entries("deploy_failed")
    assert failed["logical_id"] == "Bad" and failed["created"] == ["First"]


def test_not_a_template(backend: Any, fakes: dict) -> None:
    with pytest.raises(DeployError, match="template has no Resources"):
        apply({"Outputs": {}}, backend, fakes)
    with pytest.raises(DeployError, match="X: a resource must be an object with a string Type"):
        apply({"Resources": {"X": {"Properties": {}}}}, backend, fakes)


def test_template_is_not_mutated(backend: Any, fakes: dict, fixture_template: dict) -> None:
    original = copy.deepcopy(fixture_template)
    apply(fixture_template, backend, fakes, stack_name="Again")
    assert fixture_template == original


def test_deployed_failure_bucket_notifies_the_real_runtime(backend: Any, journal: Any, fixture_template: dict) -> None:
    """The whole chain with the real local runtime and notification service: an object under
    aws/lambda/ reaches the failure handler's code; one outside the prefix does not."""
    runtime_mod = pytest.importorskip("harness.runtime")
    from harness.notifications import DELIVERED, NotificationService

    class NoEsm:
        def create_event_source_mapping(self, **params: Any) -> dict:
            return {"UUID": "11111111-2222-3333-4444-555555555555"}

    runtime = runtime_mod.LocalRuntime(base_environment=backend.lambda_environment(), journal=journal)
    runtime.start()
    notifications = NotificationService(s3_client=backend.client("s3"), invoker=runtime, journal=journal,
                                        poll_interval_s=0.05)
    try:
        stack = apply_template(fixture_template, stack_name="Live", assembly_dir=ASSEMBLY, backend=backend,
                               runtime=runtime, esm=NoEsm(), notifications=notifications, journal=journal)
        notifications.start()
        s3 = backend.client("s3")
        s3.put_object(Bucket=stack.outputs["FailureBucketName"], Key="aws/lambda/u/shard/obj", Body=b"{}")
        s3.put_object(Bucket=stack.outputs["FailureBucketName"], Key="archive/copy", Body=b"{}")
        notifications.drain(timeout=20)
    finally:
        notifications.stop()
        runtime.stop()
    (delivery,) = notifications.deliveries()
    assert delivery.status == DELIVERED and delivery.key == "aws/lambda/u/shard/obj"
    assert delivery.function == stack.functions["FailureHandler8F8A908C"]


def test_inline_code_is_written_once_per_content_and_by_runtime() -> None:
    """Inline `Code.ZipFile` (CloudFormation writes index.py, or index.js for Node.js) lands in one
    folder per content, so repeated deploys share it instead of leaving a folder each."""
    from harness.deploy.resources.awslambda import inline_code_dir

    first = inline_code_dir("def handler(e, c):\n    return 1\n", "python3.12")
    again = inline_code_dir("def handler(e, c):\n    return 1\n", "python3.12")
    other = inline_code_dir("def handler(e, c):\n    return 2\n", "python3.12")
    node = inline_code_dir("exports.handler = async () => 1;\n", "nodejs20.x")
    assert first == again and first != other
    assert (first / "index.py").read_text() == "def handler(e, c):\n    return 1\n"
    assert (node / "index.js").is_file() and not (node / "index.py").exists()
