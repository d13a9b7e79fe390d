"""Assertions on the synthesized CloudFormation template (plain dict checks)."""

from __future__ import annotations

import json
import re
from typing import Any

from harness.deploy.synth import SynthResult

ESM_TYPE = "AWS::Lambda::EventSourceMapping"


def of_type(t: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] == kind}


def one(t: dict, kind: str) -> tuple[str, dict]:
    found = of_type(t, kind)
    assert len(found) == 1, f"expected one {kind}, got {sorted(found)}"
    return next(iter(found.items()))


def logical(t: dict, kind: str, prefix: str) -> str:
    [name] = [k for k in of_type(t, kind) if k.startswith(prefix)]
    return name


def statements_for_role(t: dict, role: str) -> list[dict]:
    out = []
    for pol in of_type(t, "AWS::IAM::Policy").values():
        if {"Ref": role} in pol["Properties"]["Roles"]:
            out += pol["Properties"]["PolicyDocument"]["Statement"]
    return out


def actions(stmt: dict) -> list[str]:
    a = stmt["Action"]
    return [a] if isinstance(a, str) else a


def test_consumer_s3_access_is_guarded_by_resource_account(custom: SynthResult) -> None:
    t = custom.template
    fn = logical(t, "AWS::Lambda::Function", "ConsumerFunction")
    role = t["Resources"][fn]["Properties"]["Role"]["Fn::GetAtt"][0]
    s3_stmts = [s for s in statements_for_role(t, role) if any(a.startswith("s3:") for a in actions(s))]
    assert len(s3_stmts) == 1, "S3OnFailureDestination's unconditioned grantReadWrite must not be present"
    [stmt] = s3_stmts
    assert sorted(actions(stmt)) == ["s3:ListBucket", "s3:PutObject"]
    assert stmt["Condition"] == {"StringEquals": {"s3:ResourceAccount": {"Ref": "AWS::AccountId"}}}
    bucket = logical(t, "AWS::S3::Bucket", "FailureBucket")
    assert {"Fn::GetAtt": [bucket, "Arn"]} in stmt["Resource"]


def test_failure_handler_never_gets_delete(custom: SynthResult) -> None:
    t = custom.template
    for fn in of_type(t, "AWS::Lambda::Function"):
        if fn.startswith(("ConsumerFunction", "FailureHandlerFunction")):
            role = t["Resources"][fn]["Properties"]["Role"]["Fn::GetAtt"][0]
            assert not [a for s in statements_for_role(t, role) for a in actions(s) if "Delete" in a and a.startswith("s3:")]


def test_bucket_encryption_public_access_ssl_lifecycle_retain(custom: SynthResult) -> None:
    t = custom.template
    name, bucket = one(t, "AWS::S3::Bucket")
    props = bucket["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert props["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                      "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireArchive"]["Prefix"] == "archive/" and rules["ExpireArchive"]["ExpirationInDays"] == 400
    assert rules["AbortIncompleteUploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
    _, policy = one(t, "AWS::S3::BucketPolicy")
    [deny] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and deny["Action"] == "s3:*"
    assert not of_type(t, "Custom::S3AutoDeleteObjects")


def test_topic_enforces_ssl(custom: SynthResult) -> None:
    _, policy = one(custom.template, "AWS::SNS::TopicPolicy")
    [stmt] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert stmt["Effect"] == "Deny" and stmt["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_tables(custom: SynthResult) -> None:
    t = custom.template
    source = t["Resources"][logical(t, "AWS::DynamoDB::Table", "SourceTable")]["Properties"]
    assert source["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert source["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert source["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert source["BillingMode"] == "PAY_PER_REQUEST"
    projection = t["Resources"][logical(t, "AWS::DynamoDB::Table", "ProjectionTable")]["Properties"]
    assert projection["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]


def test_esm_properties_follow_context(custom: SynthResult) -> None:
    t = custom.template
    _, esm = one(t, ESM_TYPE)
    p = esm["Properties"]
    bucket = logical(t, "AWS::S3::Bucket", "FailureBucket")
    assert p["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [bucket, "Arn"]}}}
    assert (p["BatchSize"], p["MaximumRetryAttempts"], p["BisectBatchOnFunctionError"]) == (25, 3, True)
    assert (p["MaximumRecordAgeInSeconds"], p["ParallelizationFactor"]) == (600, 2)
    assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert p["StartingPosition"] == "TRIM_HORIZON"
    assert p["EventSourceArn"] == {"Fn::GetAtt": [logical(t, "AWS::DynamoDB::Table", "SourceTable"), "StreamArn"]}
    consumer = t["Resources"][logical(t, "AWS::Lambda::Function", "ConsumerFunction")]["Properties"]
    assert consumer["Environment"]["Variables"]["REPORT_BATCH_ITEM_FAILURES"] == "true"
    assert consumer["Runtime"] == "python3.11" and consumer["Handler"] == "app.handler"


def test_esm_defaults(default: SynthResult) -> None:
    t = default.template
    assert default.stack_name == "ResiliencePipeline"
    _, esm = one(t, ESM_TYPE)
    p = esm["Properties"]
    assert (p["BatchSize"], p["MaximumRetryAttempts"], p["BisectBatchOnFunctionError"]) == (10, 2, True)
    assert (p["MaximumRecordAgeInSeconds"], p["ParallelizationFactor"]) == (3600, 1)
    assert "FunctionResponseTypes" not in p
    consumer = t["Resources"][logical(t, "AWS::Lambda::Function", "ConsumerFunction")]["Properties"]
    assert consumer["Environment"]["Variables"]["REPORT_BATCH_ITEM_FAILURES"] == "false"


def test_alarms(custom: SynthResult) -> None:
    t = custom.template
    alarms = {a["Properties"]["MetricName"]: a["Properties"] for a in of_type(t, "AWS::CloudWatch::Alarm").values()}
    assert set(alarms) == {"IteratorAge", "DestinationDeliveryFailures"}
    consumer = logical(t, "AWS::Lambda::Function", "ConsumerFunction")
    topic = logical(t, "AWS::SNS::Topic", "AlertTopic")
    for alarm in alarms.values():
        assert alarm["Namespace"] == "AWS/Lambda"
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": consumer}}]
        assert alarm["AlarmActions"] == [{"Ref": topic}]
    assert alarms["DestinationDeliveryFailures"]["Threshold"] == 1
    assert alarms["IteratorAge"]["Statistic"] == "Maximum"


def test_notification_filtered_to_failure_prefix(custom: SynthResult) -> None:
    t = custom.template
    _, note = one(t, "Custom::S3BucketNotifications")
    [cfg] = note["Properties"]["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    assert cfg["Events"] == ["s3:ObjectCreated:*"]
    assert cfg["Filter"] == {"Key": {"FilterRules": [{"Name": "prefix", "Value": "aws/lambda/"}]}}
    handler = logical(t, "AWS::Lambda::Function", "FailureHandlerFunction")
    assert cfg["LambdaFunctionArn"] == {"Fn::GetAtt": [handler, "Arn"]}
    env = t["Resources"][handler]["Properties"]["Environment"]["Variables"]
    assert env["ARCHIVE_PREFIX"] == "archive/" and env["EXPECTED_BUCKET_OWNER"] == {"Ref": "AWS::AccountId"}
    assert env["ALERT_TOPIC_ARN"] == {"Ref": logical(t, "AWS::SNS::Topic", "AlertTopic")}


def test_outputs(custom: SynthResult) -> None:
    t = custom.template
    assert set(t["Outputs"]) == {"SourceTableName", "SourceTableStreamArn", "ProjectionTableName", "FailureBucketName",
                                 "AlertTopicArn", "ConsumerFunctionName", "FailureHandlerFunctionName",
                                 "EventSourceMappingId"}
    esm, _ = one(t, ESM_TYPE)
    assert t["Outputs"]["EventSourceMappingId"]["Value"] == {"Ref": esm}
    assert custom.stack_name == "TestPipeline"


def test_env_agnostic_without_cdk_metadata(custom: SynthResult) -> None:
    t = custom.template
    assert not of_type(t, "AWS::CDK::Metadata")
    text = json.dumps(t)
    assert not re.search(r"\b\d{12}\b", text), "an account id is hard-coded"
    assert not re.search(r"\b(us|eu|ap|sa|ca|me|af)-[a-z]+-\d\b", text), "a region is hard-coded"


def test_lambda_assets_are_staged(custom: SynthResult) -> None:
    t = custom.template
    expected = {"ConsumerFunction": "orders.py", "FailureHandlerFunction": "failure_record.py"}
    for prefix, module in expected.items():
        meta: dict[str, Any] = t["Resources"][logical(t, "AWS::Lambda::Function", prefix)]["Metadata"]
        asset = custom.assembly_dir / meta["aws:asset:path"]
        assert (asset / "app.py").is_file() and (asset / module).is_file()
        assert not list(asset.rglob("__pycache__"))


def test_auto_replay_is_off_by_default_and_wired_when_on() -> None:
    """The failure handler's optional replay policy: env from context, invoke and tagging grants."""
    from harness.deploy.synth import synthesize

    def handler_and_policy(template: dict) -> tuple[dict, list]:
        res = template["Resources"]
        fn = next(v for k, v in res.items() if k.startswith("FailureHandlerFunction") and v["Type"] == "AWS::Lambda::Function")
        pol = next(v for k, v in res.items() if k.startswith("FailureHandlerFunctionServiceRoleDefaultPolicy"))
        return fn["Properties"]["Environment"]["Variables"], pol["Properties"]["PolicyDocument"]["Statement"]

    env, statements = handler_and_policy(synthesize({}).template)
    assert env["AUTO_REPLAY"] == "off"
    assert not [s for s in statements if "lambda:InvokeFunction" in str(s["Action"])]

    env, statements = handler_and_policy(
        synthesize({"autoReplay": True, "autoReplayMaxAttempts": 3, "autoReplayDelaySeconds": 10}).template)
    assert env["AUTO_REPLAY"] == "consumer" and env["AUTO_REPLAY_MAX_ATTEMPTS"] == "3"
    assert env["AUTO_REPLAY_DELAY_SECONDS"] == "10" and "Ref" in env["AUTO_REPLAY_FUNCTION"]
    [invoke] = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert invoke["Resource"]["Fn::GetAtt"][0].startswith("ConsumerFunction")  # unqualified ARN, no ":*"
    [tagging] = [s for s in statements if s["Action"] == ["s3:GetObjectTagging", "s3:PutObjectTagging"]]
    assert "aws/lambda/*" in str(tagging["Resource"])
