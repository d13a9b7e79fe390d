"""Each resource handler against the embedded backend, through apply_template on a tiny template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.deploy import DeployError, apply_template
from harness.deploy.resources.base import physical_name

ASSEMBLY = Path(__file__).parent / "fixtures" / "assembly"


def deploy(backend: Any, fakes: dict[str, Any], resources: dict[str, Any], journal: Any = None, **extra: Any) -> Any:
    template = {"Resources": resources, **extra}
    return apply_template(template, stack_name="Unit", assembly_dir=ASSEMBLY, backend=backend, journal=journal, **fakes)


def test_table_with_stream_gsi_ttl_and_noted_sse(backend: Any, fakes: dict[str, Any], journal: Any) -> None:
    stack = deploy(backend, fakes, {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "g", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "ALL"}}],
        "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    }}}, journal)
    t = stack.resources["T"]
    assert t.physical_id.startswith("Unit-T-")
    desc = backend.client("dynamodb").describe_table(TableName=t.physical_id)["Table"]
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert desc["GlobalSecondaryIndexes"][0]["IndexName"] == "byG"
    assert t.attributes == {"Arn": desc["TableArn"], "StreamArn": desc["LatestStreamArn"]}
    ttl = backend.client("dynamodb").describe_time_to_live(TableName=t.physical_id)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "ttl"
    noted = {e.get("property") for e in journal.entries("deploy_note", logical_id="T")}
    assert {"SSESpecification", "PointInTimeRecoverySpecification"} <= noted


def test_provisioned_table_gets_throughput(backend: Any, fakes: dict[str, Any]) -> None:
    stack = deploy(backend, fakes, {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": "explicit-name",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
    }}})
    desc = backend.client("dynamodb").describe_table(TableName="explicit-name")["Table"]
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    assert "StreamArn" not in stack.resources["T"].attributes


def test_bucket_settings_policy_and_attributes(backend: Any, fakes: dict[str, Any], journal: Any) -> None:
    stack = deploy(backend, fakes, {
        "B": {"Type": "AWS::S3::Bucket", "Properties": {
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {"Rules": [
                {"Id": "arch", "Prefix": "archive/", "ExpirationInDays": 400, "Status": "Enabled"},
                {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}, "Status": "Enabled"}]},
        }},
        "P": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "B"}, "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
                 "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/*"]]},
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                {"Sid": "Keep", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
                 "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/*"]]}}]}}},
    }, journal)
    name = stack.resources["B"].physical_id
    assert name == name.lower() and len(name) <= 63 and name.startswith("unit-b-")
    s3 = backend.client("s3")
    enc = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert {"ID": "arch", "Status": "Enabled", "Filter": {"Prefix": "archive/"}, "Expiration": {"Days": 400}}.items() <= rules[0].items()
    assert rules[1]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    # moto enforces bucket policies and the local endpoint is plain HTTP: CDK's enforceSSL Deny would
    # refuse every write, so it is left out (and journaled); every other statement is kept, resolved.
    assert [st.get("Sid") for st in policy["Statement"]] == ["Keep"]
    assert policy["Statement"][0]["Resource"] == f"arn:aws:s3:::{name}/*"
    (note,) = [e for e in journal.entries("deploy_note", logical_id="P") if "TLS-only" in e["note"]]
    assert note["statements"] == ["Statement[0]"]
    s3.put_object(Bucket=name, Key="aws/lambda/x", Body=b"{}")
    attrs = stack.resources["B"].attributes
    assert attrs["Arn"] == f"arn:aws:s3:::{name}"
    assert attrs["RegionalDomainName"] == f"{name}.s3.us-east-1.amazonaws.com"


def test_generated_bucket_name_fits_63_chars_for_long_names() -> None:
    name = physical_name("A" * 80, "VeryLongLogicalId" * 5, max_length=63, lowercase=True)
    assert len(name) <= 63 and name == name.lower()


def test_topic_with_policy_and_subscription_and_queue(backend: Any, fakes: dict[str, Any]) -> None:
    stack = deploy(backend, fakes, {
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 45}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "alerts"}},
        "TP": {"Type": "AWS::SNS::TopicPolicy", "Properties": {"Topics": [{"Ref": "Topic"}], "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                                                    "Resource": {"Ref": "Topic"}}]}}},
        "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": "Topic"}, "Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["Q", "Arn"]},
            "RawMessageDelivery": True}},
    })
    topic_arn = stack.resources["Topic"].physical_id
    assert stack.resources["Topic"].attributes["TopicArn"] == topic_arn
    attrs = backend.client("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert attrs["DisplayName"] == "alerts"
    assert json.loads(attrs["Policy"])["Statement"][0]["Effect"] == "Deny"
    queue_url = stack.resources["Q"].physical_id
    qattrs = backend.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert qattrs["VisibilityTimeout"] == "45"
    backend.client("sns").publish(TopicArn=topic_arn, Message="hello")
    got = backend.client("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert got[0]["Body"] == "hello"  # raw delivery: the subscription was really created


def test_role_and_policy_in_iam(backend: Any, fakes: dict[str, Any], journal: Any) -> None:
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
                                                   "Condition": {"StringEquals": {"s3:ResourceAccount": {"Ref": "AWS::AccountId"}}}}]}
    stack = deploy(backend, fakes, {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]},
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]}},
        "Pol": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "inline", "PolicyDocument": doc,
                                                          "Roles": [{"Ref": "Role"}]}},
    }, journal)
    role = stack.resources["Role"]
    iam = backend.client("iam")
    got = iam.get_role(RoleName=role.physical_id)["Role"]
    assert role.attributes == {"Arn": got["Arn"], "RoleId": got["RoleId"]}
    stored = iam.get_role_policy(RoleName=role.physical_id, PolicyName="inline")["PolicyDocument"]
    assert stored["Statement"][0]["Condition"] == {"StringEquals": {"s3:ResourceAccount": "123456789012"}}


def test_a_policy_without_version_is_accepted_as_aws_does_with_a_note(backend: Any, fakes: dict[str, Any],
                                                                       journal: Any) -> None:
    """SAM writes inline `Policies: [{Statement: [...]}]` with no Version; IAM accepts that, moto does not."""
    stack = deploy(backend, fakes, {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                        "Principal": {"Service": "lambda.amazonaws.com"}}]},
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}}]}},
    }, journal)
    stored = backend.client("iam").get_role_policy(RoleName=stack.resources["Role"].physical_id, PolicyName="p")
    assert stored["PolicyDocument"]["Version"] == "2012-10-17"
    notes = [e["note"] for e in journal.entries("deploy_note") if e["logical_id"] == "Role"]
    assert sum("has no Version (AWS reads it as 2008-10-17)" in n for n in notes) == 2  # trust and inline policy


def test_alarm_in_cloudwatch_and_log_group_recorded(backend: Any, fakes: dict[str, Any], journal: Any) -> None:
    stack = deploy(backend, fakes, {
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "MetricName": "IteratorAge", "Namespace": "AWS/Lambda", "Statistic": "Maximum", "Period": 60,
            "EvaluationPeriods": 1, "Threshold": 60000, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Dimensions": [{"Name": "FunctionName", "Value": "f"}]}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
    }, journal)
    name = stack.resources["Alarm"].physical_id
    alarms = backend.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert alarms[0]["MetricName"] == "IteratorAge" and alarms[0]["Threshold"] == 60000.0
    assert journal.entries("deploy_note", logical_id="Logs")


def test_function_registered_with_runtime_not_moto(backend: Any, fakes: dict[str, Any]) -> None:
    asset = next(p.name for p in ASSEMBLY.iterdir() if p.name.startswith("asset."))
    stack = deploy(backend, fakes, {
        "T": {"Type": "AWS::SNS::Topic"},
        "Fn": {"Type": "AWS::Lambda::Function", "Metadata": {"aws:asset:path": asset}, "Properties": {
            "Code": {"S3Bucket": "ignored", "S3Key": "ignored.zip"}, "Handler": "app.handler", "Runtime": "python3.11",
            "Timeout": 7, "MemorySize": 256, "Environment": {"Variables": {"TOPIC": {"Ref": "T"}, "FLAG": True}}}},
        "Named": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "explicit", "Handler": "index.handler",
                                                                 "Runtime": "python3.12",
                                                                 "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"}}},
    })
    spec = fakes["runtime"].by_name("Unit-Fn")
    assert spec.code_dir == ASSEMBLY / asset and spec.handler == "app.handler"
    assert spec.timeout_s == 7.0 and spec.memory_mb == 256
    assert spec.environment == {"TOPIC": stack.resources["T"].physical_id, "FLAG": "true"}
    assert spec.arn == "arn:aws:lambda:us-east-1:123456789012:function:Unit-Fn"
    assert spec.runtime == "python3.11"
    inline = fakes["runtime"].by_name("explicit")
    assert (Path(inline.code_dir) / "index.py").read_text().startswith("def handler")
    assert inline.runtime == "python3.12"
    assert stack.functions == {"Fn": "Unit-Fn", "Named": "explicit"}
    assert stack.resources["Fn"].attributes["Arn"] == spec.arn


def test_nodejs_function_gets_its_runtime_and_inline_code_as_index_js(backend: Any, fakes: dict[str, Any]) -> None:
    deploy(backend, fakes, {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
        "FunctionName": "node-inline", "Handler": "index.handler", "Runtime": "nodejs24.x",
        "Code": {"ZipFile": "exports.handler = async () => 1;"}}}})
    spec = fakes["runtime"].by_name("node-inline")
    assert spec.runtime == "nodejs24.x"
    assert (Path(spec.code_dir) / "index.js").read_text().startswith("exports.handler")


def test_function_asset_found_through_assets_manifest_without_metadata(backend: Any, fakes: dict[str, Any],
                                                                        fixture_template: dict[str, Any]) -> None:
    code = fixture_template["Resources"]["Consumer8D6BE417"]["Properties"]["Code"]
    deploy(backend, fakes, {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
        "Code": code, "Handler": "app.handler", "Runtime": "python3.11"}}})
    assert fakes["runtime"].specs[0].code_dir.name.startswith("asset.")


@pytest.mark.parametrize("props, fragment", [
    ({"Runtime": "java21", "Handler": "i.h", "Code": {"ZipFile": "x"}},
     "runtime 'java21' is not supported; the local runtime runs python3.x, nodejs18.x, nodejs20.x, nodejs22.x, nodejs24.x"),
    ({"Runtime": "nodejs16.x", "Handler": "i.h", "Code": {"ZipFile": "x"}}, "runtime 'nodejs16.x' is not supported"),
    ({"Runtime": "python3.11", "Handler": "i.h", "Code": {"S3Bucket": "b", "S3Key": "nope.zip"}}, "cannot find the function's code"),
    ({"Runtime": "python3.11", "Handler": "i.h", "Code": {"ImageUri": "x"}}, "container-image functions"),
])
def test_function_validation_errors_name_the_function(backend: Any, fakes: dict[str, Any], props: dict, fragment: str) -> None:
    with pytest.raises(DeployError, match=f"Fn \\(AWS::Lambda::Function\\): .*{fragment}"):
        deploy(backend, fakes, {"Fn": {"Type": "AWS::Lambda::Function", "Properties": props}})
    assert fakes["runtime"].specs == []


def test_mapping_goes_to_esm_with_function_name_and_api_shapes(backend: Any, fakes: dict[str, Any]) -> None:
    stack = deploy(backend, fakes, {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "index.h", "Runtime": "python3.11",
                                                              "Code": {"ZipFile": "h=1"}}},
        "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {"Action": "lambda:InvokeFunction",
                                                                  "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
                                                                  "Principal": "s3.amazonaws.com"}},
        "Esm": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]}, "EventSourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
            "StartingPosition": "TRIM_HORIZON", "BatchSize": 10, "BisectBatchOnFunctionError": "true",
            "MaximumRetryAttempts": 2, "Tags": [{"Key": "k", "Value": "v"}],
            "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::b"}}}},
    }, Outputs={"Id": {"Value": {"Ref": "Esm"}}, "EsmArn": {"Value": {"Fn::GetAtt": ["Esm", "EventSourceMappingArn"]}}})
    call = fakes["esm"].calls[0]
    assert call["FunctionName"] == "Unit-Fn"
    assert call["BisectBatchOnFunctionError"] is True and call["Tags"] == {"k": "v"}
    assert call["DestinationConfig"] == {"OnFailure": {"Destination": "arn:aws:s3:::b"}}
    assert stack.mappings == {"Esm": stack.outputs["Id"]}
    assert stack.outputs["EsmArn"].endswith(f"event-source-mapping:{stack.outputs['Id']}")


def test_bucket_notifications_go_to_service_not_moto(backend: Any, fakes: dict[str, Any]) -> None:
    stack = deploy(backend, fakes, {
        "B": {"Type": "AWS::S3::Bucket"},
        "Q": {"Type": "AWS::SQS::Queue"},
        "Handler": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "index.h", "Runtime": "python3.11",
                                                                   "Code": {"ZipFile": "h=1"}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "index.h", "Runtime": "python3.11",
                                                              "Code": {"ZipFile": "h=1"}}},
        "N": {"Type": "Custom::S3BucketNotifications", "Properties": {
            "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]}, "BucketName": {"Ref": "B"}, "Managed": True,
            "NotificationConfiguration": {
                "LambdaFunctionConfigurations": [{"Events": ["s3:ObjectCreated:*"], "LambdaFunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]},
                                                  "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "aws/lambda/"}]}}}],
                "QueueConfigurations": [{"Events": ["s3:ObjectCreated:*"], "QueueArn": {"Fn::GetAtt": ["Q", "Arn"]}}]}}},
    })
    bucket = stack.resources["B"].physical_id
    (got_bucket, config), = fakes["notifications"].calls
    assert got_bucket == bucket
    assert config["LambdaFunctionConfigurations"][0]["LambdaFunctionArn"].endswith(":function:Unit-Fn")
    moto_config = backend.client("s3").get_bucket_notification_configuration(Bucket=bucket)
    assert "LambdaFunctionConfigurations" not in moto_config  # moto must never invoke Lambda itself
    assert len(moto_config["QueueConfigurations"]) == 1
    # The provider function is not registered: the harness applies the custom resource natively.
    assert [s.name for s in fakes["runtime"].specs] == ["Unit-Fn"]
    assert "Handler" not in stack.functions


def test_bucket_with_lambda_notifications_and_no_service_fails_before_creating_it(backend: Any,
                                                                                  fakes: dict[str, Any]) -> None:
    name = "unit-native-notifications-no-service"
    with pytest.raises(DeployError, match="Early: bucket notifications to Lambda need a notification service"):
        deploy(backend, {**fakes, "notifications": None}, {
            "Early": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name, "NotificationConfiguration": {
                "LambdaConfigurations": [{"Event": "s3:ObjectCreated:*",
                                          "Function": "arn:aws:lambda:us-east-1:123456789012:function:f"}]}}},
        })
    assert name not in [b["Name"] for b in backend.client("s3").list_buckets()["Buckets"]]


@pytest.mark.parametrize(("given", "expected"), [("false", False), ("true", True), (False, False), (True, True)])
def test_lifecycle_expired_object_delete_marker_reads_cloudformation_booleans(given: Any, expected: bool) -> None:
    from harness.deploy.resources.s3 import _lifecycle_rule

    rule = _lifecycle_rule("B", 0, {"ExpiredObjectDeleteMarker": given, "Status": "Enabled"})
    assert rule["Expiration"] == {"ExpiredObjectDeleteMarker": expected}
