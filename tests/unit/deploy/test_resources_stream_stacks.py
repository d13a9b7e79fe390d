"""The resources real stream stacks hold beyond the sample's (CDK TableV2, an SSE-KMS failure bucket,
EventBridge/SNS/SES alerts, SSM configuration, Kinesis, Lambda layers, versions and aliases),
each against the embedded backend through apply_template on a tiny template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.deploy import DeployError, apply_template

ASSEMBLY = Path(__file__).parent / "fixtures" / "assembly"
KEYS = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}
INLINE = {"Handler": "index.handler", "Runtime": "python3.11", "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"}}


def deploy(backend: Any, fakes: dict[str, Any], resources: dict[str, Any], journal: Any = None,
           assembly: Path = ASSEMBLY, **extra: Any) -> Any:
    return apply_template({"Resources": resources, **extra}, stack_name="Unit", assembly_dir=assembly,
                          backend=backend, journal=journal, **fakes)


def noted(journal: Any, lid: str) -> dict[str, str]:
    """property -> note text, for one logical id."""
    return {e.get("property"): e["note"] for e in journal.entries("deploy_note", logical_id=lid)}


# -- DynamoDB GlobalTable (CDK TableV2) ------------------------------------------------------------


def test_global_table_as_tablev2_synthesizes_it(backend: Any, fakes: dict[str, Any], journal: Any) -> None:
    # The shape CDK 2.275's TableV2 synthesizes (stream, GSI, TTL, one replica in the stack's region).
    stack = deploy(backend, fakes, {"Orders": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"},
                                 {"AttributeName": "status", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [{"IndexName": "byStatus", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "ALL"}}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "Replicas": [{"GlobalSecondaryIndexes": [{"IndexName": "byStatus"}], "Region": {"Ref": "AWS::Region"},
                      "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}],
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }}}, journal, Outputs={"Name": {"Value": {"Ref": "Orders"}}, "Stream": {"Value": {"Fn::GetAtt": ["Orders", "StreamArn"]}}})
    table = stack.resources["Orders"]
    ddb = backend.client("dynamodb")
    desc = ddb.describe_table(TableName=table.physical_id)["Table"]
    assert stack.outputs["Name"] == table.physical_id and table.physical_id.startswith("Unit-Orders-")
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert [i["IndexName"] for i in desc["GlobalSecondaryIndexes"]] == ["byStatus"]
    assert [k["KeyType"] for k in desc["KeySchema"]] == ["HASH", "RANGE"]
    # The stream the ESM reads is the table's own latest stream.
    assert table.attributes["StreamArn"] == desc["LatestStreamArn"] == stack.outputs["Stream"]
    assert table.attributes["Arn"] == desc["TableArn"] and len(table.attributes["TableId"]) == 36
    ttl = ddb.describe_time_to_live(TableName=table.physical_id)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "ttl"
    notes = noted(journal, "Orders")
    assert "SSESpecification" in notes and "Replicas.PointInTimeRecoverySpecification" in notes


def test_provisioned_global_table_takes_the_local_replica_capacity_and_notes_other_regions(
        backend: Any, fakes: dict[str, Any], journal: Any) -> None:
    stack = deploy(backend, fakes, {"Prov": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {
        **KEYS, "TableName": "unit-provisioned-global", "BillingMode": "PROVISIONED",
        "Replicas": [{"ReadProvisionedThroughputSettings": {"ReadCapacityUnits": 4}, "Region": "eu-west-1"},
                     {"ReadProvisionedThroughputSettings": {"ReadCapacityUnits": 7}, "Region": "us-east-1"}],
        "WriteProvisionedThroughputSettings": {"WriteCapacityAutoScalingSettings": {
            "MaxCapacity": 10, "MinCapacity": 2, "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70}}}}}},
        journal)
    desc = backend.client("dynamodb").describe_table(TableName="unit-provisioned-global")["Table"]
    assert {k: desc["ProvisionedThroughput"][k] for k in ("ReadCapacityUnits", "WriteCapacityUnits")} == {
        "ReadCapacityUnits": 7, "WriteCapacityUnits": 2}
    assert "StreamArn" not in stack.resources["Prov"].attributes  # no stream asked for
    notes = [e for e in journal.entries("deploy_note", logical_id="Prov") if e.get("property") == "Replicas"]
    assert [e["region"] for e in notes] == ["eu-west-1"] and "not created" in notes[0]["note"]
    assert "auto scaling" in noted(journal, "Prov")["WriteProvisionedThroughputSettings"]


# -- KMS and an SSE-KMS bucket ---------------------------------------------------------------------


def test_kms_key_alias_and_an_sse_kms_bucket_still_takes_writes(backend: Any, fakes: dict[str, Any],
                                                                 journal: Any) -> None:
    stack = deploy(backend, fakes, {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {
            "EnableKeyRotation": True, "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT",
            "PendingWindowInDays": 7, "Description": "failure archive",
            "KeyPolicy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                          "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}}]}}},
        "Alias": {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": "alias/unit-failures",
                                                          "TargetKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                               "KMSMasterKeyID": {"Fn::GetAtt": ["Key", "Arn"]}}}]}}},
    }, journal, Outputs={"KeyRef": {"Value": {"Ref": "Key"}}, "AliasRef": {"Value": {"Ref": "Alias"}}})
    key = stack.resources["Key"]
    kms = backend.client("kms")
    meta = kms.describe_key(KeyId=key.physical_id)["KeyMetadata"]
    assert stack.outputs["KeyRef"] == key.physical_id == key.attributes["KeyId"] == meta["KeyId"]
    assert key.attributes["Arn"] == meta["Arn"] and meta["Description"] == "failure archive"
    assert kms.get_key_rotation_status(KeyId=key.physical_id)["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=key.physical_id, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert stack.outputs["AliasRef"] == "alias/unit-failures" and aliases["alias/unit-failures"] == meta["KeyId"]
    assert "PendingWindowInDays" in noted(journal, "Key")
    s3 = backend.client("s3")
    bucket = stack.resources["Bucket"].physical_id
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": meta["Arn"]}
    s3.put_object(Bucket=bucket, Key="aws/lambda/probe", Body=b'{"ok": 1}')  # the ESM's write still works
    got = s3.get_object(Bucket=bucket, Key="aws/lambda/probe")
    assert got["Body"].read() == b'{"ok": 1}' and got["ServerSideEncryption"] == "aws:kms"
    assert got["SSEKMSKeyId"] == meta["Arn"]


# -- EventBridge -----------------------------------------------------------------------------------


def _event_stack(backend: Any, fakes: dict[str, Any], journal: Any, state: str = "ENABLED") -> Any:
    return deploy(backend, fakes, {
        "Alerts": {"Type": "AWS::SQS::Queue"},
        "TopicInbox": {"Type": "AWS::SQS::Queue"},
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "sqs",
                                                               "Endpoint": {"Fn::GetAtt": ["TopicInbox", "Arn"]},
                                                               "RawMessageDelivery": True}},
        "Handler": {"Type": "AWS::Lambda::Function", "Properties": INLINE},
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": f"unit-alerts-{state.lower()}"}},
        "Rule": {"Type": "AWS::Events::Rule", "Properties": {
            "EventBusName": {"Ref": "Bus"}, "EventPattern": {"source": ["orders.failures"]}, "State": state,
            "Targets": [{"Arn": {"Fn::GetAtt": ["Alerts", "Arn"]}, "Id": "Queue"},
                        {"Arn": {"Ref": "Topic"}, "Id": "Topic"},
                        {"Arn": {"Fn::GetAtt": ["Handler", "Arn"]}, "Id": "Fn"}]}},
    }, journal)


def _put_failure_event(backend: Any, bus: str) -> None:
    result = backend.client("events").put_events(Entries=[{
        "Source": "orders.failures", "DetailType": "FailureRecord", "EventBusName": bus,
        "Detail": json.dumps({"key": "aws/lambda/x", "records": 1})}])
    assert result["FailedEntryCount"] == 0


def test_put_events_reaches_the_rules_sqs_and_sns_targets(backend: Any, fakes: dict[str, Any], journal: Any) -> None:
    """moto delivers to SQS itself; SNS targets through harness.backends.moto_events (moto alone
    raised NotImplementedError and failed the whole PutEvents)."""
    stack = _event_stack(backend, fakes, journal)
    bus = stack.resources["Bus"]
    rule = stack.resources["Rule"]
    assert bus.physical_id == "unit-alerts-enabled" and bus.attributes["Arn"].endswith(":event-bus/unit-alerts-enabled")
    assert rule.physical_id == f"unit-alerts-enabled|{rule.attributes['RuleName']}"  # Ref on a custom bus
    assert rule.attributes["Arn"].endswith(f":rule/unit-alerts-enabled/{rule.attributes['RuleName']}")
    events = backend.client("events")
    targets = events.list_targets_by_rule(Rule=rule.attributes["RuleName"], EventBusName=bus.physical_id)["Targets"]
    assert sorted(t["Id"] for t in targets) == ["Queue", "Topic"]  # the Lambda target is never put on moto
    (lambda_note,) = [e for e in journal.entries("deploy_note", logical_id="Rule") if e.get("property") == "Targets"]
    assert "is not invoked locally" in lambda_note["note"] and lambda_note["target"].endswith(":function:Unit-Handler")

    _put_failure_event(backend, bus.physical_id)
    sqs = backend.client("sqs")
    (queued,) = sqs.receive_message(QueueUrl=stack.resources["Alerts"].physical_id, WaitTimeSeconds=1)["Messages"]
    event = json.loads(queued["Body"])
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "orders.failures", "FailureRecord", {"key": "aws/lambda/x", "records": 1})
    (published,) = sqs.receive_message(QueueUrl=stack.resources["TopicInbox"].physical_id, WaitTimeSeconds=1)["Messages"]
    sns_event = json.loads(published["Body"])  # raw delivery: the message is the event itself
    assert sns_event["id"] == event["id"] and sns_event["detail"] == event["detail"]
    assert sns_event["time"].endswith("Z")


def test_a_disabled_rule_delivers_nothing(backend: Any, fakes: dict[str, Any], journal: Any) -> None:
    stack = _event_stack(backend, fakes, journal, state="DISABLED")
    _put_failure_event(backend, stack.resources["Bus"].physical_id)
    sqs = backend.client("sqs")
    for queue in ("Alerts", "TopicInbox"):
        assert not sqs.receive_message(QueueUrl=stack.resources[queue].physical_id).get("Messages")


def test_schedule_rule_is_created_and_noted_not_run(backend: Any, fakes: dict[str, Any], journal: Any) -> None:
    stack = deploy(backend, fakes, {"Tick": {"Type": "AWS::Events::Rule", "Properties": {
        "ScheduleExpression": "rate(5 minutes)", "Name": "unit-tick"}}}, journal)
    assert stack.resources["Tick"].physical_id == "unit-tick"  # Ref on the default bus: the name
    assert backend.client("events").describe_rule(Name="unit-tick")["ScheduleExpression"] == "rate(5 minutes)"
    assert "is not run locally" in noted(journal, "Tick")["ScheduleExpression"]


# -- SES, SSM ---------------------------------------------------------------------------------------


def test_ses_identity_lets_the_handler_send_and_configuration_set_is_created(backend: Any, fakes: dict[str, Any],
                                                                              journal: Any) -> None:
    ses = backend.client("ses")
    message = {"Subject": {"Data": "poison record"}, "Body": {"Text": {"Data": "see aws/lambda/x"}}}
    with pytest.raises(ses.exceptions.MessageRejected):  # before the deploy: the sender is unknown
        ses.send_email(Source="alerts@unit.example.com", Destination={"ToAddresses": ["ops@x.com"]}, Message=message)
    stack = deploy(backend, fakes, {
        "Sender": {"Type": "AWS::SES::EmailIdentity", "Properties": {"EmailIdentity": "alerts@unit.example.com",
                                                                   "MailFromAttributes": {"MailFromDomain": "m.x.com"}}},
        "Config": {"Type": "AWS::SES::ConfigurationSet", "Properties": {"Name": "unit-alerts",
                                                                       "SendingOptions": {"SendingEnabled": True}}},
    }, journal)
    assert stack.resources["Sender"].physical_id == "alerts@unit.example.com"
    ses.send_email(Source="alerts@unit.example.com", Destination={"ToAddresses": ["ops@x.com"]}, Message=message)
    backend.client("sesv2").send_email(FromEmailAddress="alerts@unit.example.com", Destination={"ToAddresses": ["o@x.com"]},
                                       Content={"Simple": message})
    assert stack.resources["Config"].physical_id == "unit-alerts"
    assert "unit-alerts" in [c["Name"] for c in ses.list_configuration_sets()["ConfigurationSets"]]
    assert "MailFromAttributes" in noted(journal, "Sender") and "SendingOptions" in noted(journal, "Config")


def test_ssm_parameters_named_and_generated(backend: Any, fakes: dict[str, Any]) -> None:
    stack = deploy(backend, fakes, {
        "Named": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/unit/alerts/topic", "Type": "String",
                                                              "Value": "arn:aws:sns:us-east-1:123456789012:t"}},
        "Listed": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "StringList", "Value": "a,b"}},
    }, Outputs={"Ref": {"Value": {"Ref": "Listed"}}, "Value": {"Value": {"Fn::GetAtt": ["Listed", "Value"]}}})
    ssm = backend.client("ssm")
    assert ssm.get_parameter(Name="/unit/alerts/topic")["Parameter"]["Value"].endswith(":t")
    listed = stack.resources["Listed"]
    assert listed.physical_id.startswith("CFN-Listed-") and "/" not in listed.physical_id
    got = ssm.get_parameter(Name=listed.physical_id)["Parameter"]
    assert (got["Type"], got["Value"]) == ("StringList", "a,b")
    assert listed.attributes["Type"] == "StringList" and stack.outputs == {"Ref": listed.physical_id, "Value": "a,b"}
    assert stack.resources["Named"].attributes["Arn"] == "arn:aws:ssm:us-east-1:123456789012:parameter/unit/alerts/topic"


# -- Kinesis -----------------------------------------------------------------------------------------


def test_kinesis_streams_and_a_registered_consumer(backend: Any, fakes: dict[str, Any], journal: Any) -> None:
    stack = deploy(backend, fakes, {
        "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {
            "ShardCount": 2, "RetentionPeriodHours": 48,
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}}},
        "OnDemand": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "unit-on-demand",
                                                                   "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}},
        "Fanout": {"Type": "AWS::Kinesis::StreamConsumer", "Properties": {
            "ConsumerName": "unit-efo", "StreamARN": {"Fn::GetAtt": ["Stream", "Arn"]}}},
    }, journal, Outputs={"Consumer": {"Value": {"Ref": "Fanout"}}})
    kinesis = backend.client("kinesis")
    name = stack.resources["Stream"].physical_id
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert name.startswith("Unit-Stream-") and stack.resources["Stream"].attributes == {"Arn": summary["StreamARN"]}
    assert summary["OpenShardCount"] == 2 and summary["RetentionPeriodHours"] == 48
    assert "StreamEncryption" in noted(journal, "Stream")
    on_demand = kinesis.describe_stream_summary(StreamName="unit-on-demand")["StreamDescriptionSummary"]
    assert on_demand["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    (mode_note,) = [e for e in journal.entries("deploy_note", logical_id="OnDemand")]
    assert mode_note["shards"] == on_demand["OpenShardCount"]
    consumer = stack.resources["Fanout"]
    described = kinesis.describe_stream_consumer(ConsumerARN=consumer.physical_id)["ConsumerDescription"]
    assert stack.outputs["Consumer"] == consumer.physical_id == consumer.attributes["ConsumerARN"]
    assert consumer.attributes["ConsumerName"] == described["ConsumerName"] == "unit-efo"
    assert consumer.attributes["StreamARN"] == summary["StreamARN"] == described["StreamARN"]
    assert consumer.attributes["ConsumerStatus"] == "ACTIVE" and consumer.attributes["ConsumerCreationTimestamp"]


# -- Lambda layers, versions, aliases ----------------------------------------------------------------


def _layer_dir(tmp_path: Path, name: str) -> Path:
    d = tmp_path / name / "python"
    d.mkdir(parents=True)
    (d / f"{name}.py").write_text("X = 1\n")
    return d.parent


def test_layers_versions_and_aliases_reach_the_runtime(backend: Any, fakes: dict[str, Any], journal: Any,
                                                        tmp_path: Path) -> None:
    first, second = _layer_dir(tmp_path, "common"), _layer_dir(tmp_path, "extra")
    stack = deploy(backend, fakes, {
        "Common": {"Type": "AWS::Lambda::LayerVersion", "Metadata": {"aws:asset:path": str(first)},
                   "Properties": {"LayerName": "common", "Content": {"S3Bucket": "b", "S3Key": "k.zip"},
                                  "CompatibleRuntimes": ["python3.11"]}},
        "Extra": {"Type": "AWS::Lambda::LayerVersion", "Metadata": {"aws:asset:path": str(second)},
                  "Properties": {"Content": {"S3Bucket": "b", "S3Key": "k2.zip"}}},
        "Share": {"Type": "AWS::Lambda::LayerVersionPermission", "Properties": {
            "LayerVersionArn": {"Ref": "Common"}, "Action": "lambda:GetLayerVersion", "Principal": "*"}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {**INLINE, "Layers": [{"Ref": "Extra"}, {"Ref": "Common"}]}},
        "V1": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Fn"}}},
        "Live": {"Type": "AWS::Lambda::Alias", "Properties": {
            "FunctionName": {"Ref": "Fn"}, "FunctionVersion": {"Fn::GetAtt": ["V1", "Version"]}, "Name": "live",
            "RoutingConfig": {"AdditionalVersionWeights": []}}},
        "Esm": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": {"Ref": "Live"}, "StartingPosition": "TRIM_HORIZON",
            "EventSourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"}},
    }, journal)
    common = stack.resources["Common"].physical_id
    assert common == "arn:aws:lambda:us-east-1:123456789012:layer:common:1"
    assert stack.resources["Common"].attributes == {"LayerVersionArn": common}
    assert stack.resources["Extra"].physical_id.startswith("arn:aws:lambda:us-east-1:123456789012:layer:Unit-Extra-")
    spec = fakes["runtime"].by_name("Unit-Fn")
    assert spec.layers == (second, first)  # the function's Layers order
    fn_arn = "arn:aws:lambda:us-east-1:123456789012:function:Unit-Fn"
    assert stack.resources["V1"].physical_id == f"{fn_arn}:1"
    assert stack.resources["V1"].attributes == {"FunctionArn": f"{fn_arn}:1", "Version": "1"}
    assert stack.resources["Live"].physical_id == stack.resources["Live"].attributes["AliasArn"] == f"{fn_arn}:live"
    assert fakes["runtime"].versions == ["Unit-Fn"] and fakes["runtime"].aliases == [("Unit-Fn", "live", "1")]
    # The mapping keeps the alias: the ESM invokes it and names it in the failure envelope (spec 3.2).
    assert fakes["esm"].calls[0]["FunctionName"] == f"{fn_arn}:live"
    assert "CompatibleRuntimes" in noted(journal, "Common") and "RoutingConfig" in noted(journal, "Live")
    assert journal.entries("deploy_note", logical_id="Share")


def test_layer_found_through_the_assets_manifest(backend: Any, fakes: dict[str, Any], tmp_path: Path) -> None:
    """As for functions (the same `asset_dir`): no aws:asset:path, the Content's S3Key names the asset."""
    assembly = tmp_path / "cdk.out"
    (assembly / "asset.abc123" / "python").mkdir(parents=True)
    (assembly / "Stack.assets.json").write_text(json.dumps({"version": "36.0.0", "files": {
        "abc123": {"source": {"path": "asset.abc123", "packaging": "zip"}, "destinations": {}}}}))
    stack = deploy(backend, fakes, {
        "Shared": {"Type": "AWS::Lambda::LayerVersion", "Properties": {
            "Content": {"S3Bucket": "cdk-assets", "S3Key": "abc123.zip"}, "LayerName": "shared"}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {**INLINE, "Layers": [{"Ref": "Shared"}]}},
    }, assembly=assembly)
    assert fakes["runtime"].by_name("Unit-Fn").layers == (assembly / "asset.abc123",)
    assert stack.resources["Shared"].physical_id.endswith(":layer:shared:1")


@pytest.mark.parametrize("resources, fragment", [
    ({"G": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {**KEYS, "BillingMode": "PAY_PER_REQUEST",
                                                                "Replicas": [{"Region": "eu-west-1"}]}}},
     r"G \(AWS::DynamoDB::GlobalTable\): Replicas must include the deploy region us-east-1"),
    ({"R": {"Type": "AWS::Events::Rule", "Properties": {"Targets": []}}},
     r"R \(AWS::Events::Rule\): a rule needs an EventPattern or a ScheduleExpression"),
    ({"R": {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["x"]}, "State": "SOMETIMES"}}},
     r"R \(AWS::Events::Rule\): State must be"),
    ({"R": {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["x"]}, "Targets": [{"Id": "t"}]}}},
     r"R \(AWS::Events::Rule\): Targets\[0\] needs an Arn and an Id"),
    ({"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "SecureString", "Value": "s"}}},
     r"P \(AWS::SSM::Parameter\): Type must be String or StringList"),
    ({"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
        **INLINE, "Layers": ["arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:7"]}}},
     r"Fn \(AWS::Lambda::Function\): Layers\[0\] .*Powertools.* is not a layer version of this template"),
    ({"L": {"Type": "AWS::Lambda::LayerVersion", "Properties": {"Content": {"S3Bucket": "b", "S3Key": "none.zip"}}}},
     r"L \(AWS::Lambda::LayerVersion\): cannot find the layer's code"),
    ({"C": {"Type": "AWS::Kinesis::StreamConsumer", "Properties": {"StreamARN": "arn:aws:kinesis:us-east-1:1:stream/s"}}},
     r"C \(AWS::Kinesis::StreamConsumer\): missing required properties: ConsumerName"),
    ({"I": {"Type": "AWS::SES::EmailIdentity", "Properties": {}}},
     r"I \(AWS::SES::EmailIdentity\): missing required properties: EmailIdentity"),
    ({"A": {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": "alias/x"}}},
     r"A \(AWS::KMS::Alias\): missing required properties: TargetKeyId"),
    ({"A": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": "f", "Name": "live"}}},
     r"A \(AWS::Lambda::Alias\): missing required properties: FunctionVersion"),
    ({"T": {"Type": "AWS::SNS::Topic"}, "B": {"Type": "AWS::Events::EventBus", "Properties": {
        "Name": {"Fn::GetAtt": ["T", "TopicName"]}}}, "O": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": {"Fn::GetAtt": ["B", "Bogus"]}}}},
     r"O: Properties.QueueName.Fn::GetAtt: B \(AWS::Events::EventBus\) has no attribute 'Bogus' \(available: Arn, Name, Policy\)"),
])
def test_bad_properties_are_refused_naming_the_resource_before_anything_is_created(
        backend: Any, fakes: dict[str, Any], resources: dict[str, Any], fragment: str) -> None:
    before = backend.client("sqs").list_queues().get("QueueUrls", [])
    with pytest.raises(DeployError, match=fragment):
        deploy(backend, fakes, resources)
    assert fakes["runtime"].specs == [] and backend.client("sqs").list_queues().get("QueueUrls", []) == before


def test_a_backend_refusal_names_the_resource(backend: Any, fakes: dict[str, Any]) -> None:
    with pytest.raises(DeployError, match=r"K \(AWS::KMS::Key\): creation failed: ClientError"):
        deploy(backend, fakes, {"K": {"Type": "AWS::KMS::Key", "Properties": {"KeySpec": "NOT_A_SPEC"}}})


# -- the whole blog-shaped CDK stack ----------------------------------------------------------------

STREAM_STACK = Path(__file__).parent / "fixtures" / "stream_stack"


def test_the_cdk_stream_stack_deploys_every_resource(
        backend: Any, fakes: dict[str, Any], journal: Any) -> None:
    """cdk_app/stream_stack_app.py, synthesized by CDK 2.275: TableV2, SSE-KMS bucket, a layer, a mapping
    on an alias (CDK writes `<name>:live`), EventBridge/SNS/SES alerts, SSM, Kinesis, a dashboard."""
    template = json.loads((STREAM_STACK / "StreamStack.template.json").read_text())
    stack = apply_template(template, stack_name="StreamStack", assembly_dir=STREAM_STACK, backend=backend,
                           journal=journal, **fakes)
    out = stack.outputs
    assert stack.stood_in == {}  # the archive and the dashboard are created too
    assert backend.client("cloudwatch").get_dashboard(DashboardName=out["DashboardName"])["DashboardBody"]
    archive = stack.resources["AlertsArchiveA207DAC5"].physical_id
    assert backend.client("events").describe_archive(ArchiveName=archive)["EventSourceArn"].endswith(out["BusName"])
    desc = backend.client("dynamodb").describe_table(TableName=out["TableName"])["Table"]
    assert out["TableStreamArn"] == desc["LatestStreamArn"]
    consumer = fakes["runtime"].by_name(stack.functions["Consumer8D6BE417"])
    assert [p.name for p in consumer.layers] == ["asset.51e68711aae674de2cc25df1da4a982be164c01937cfe1e14958318070b0fc6c"]
    assert (consumer.layers[0] / "python" / "alerting.py").exists()
    (mapping,) = fakes["esm"].calls
    assert mapping["FunctionName"] == out["LiveAliasArn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{consumer.name}:live"
    assert mapping["EventSourceArn"] == out["TableStreamArn"]
    assert fakes["runtime"].aliases == [(consumer.name, "live", "1")]
    s3 = backend.client("s3")
    s3.put_object(Bucket=out["FailureBucketName"], Key="aws/lambda/probe", Body=b"{}")  # SSE-KMS + policy: writable
    assert s3.head_object(Bucket=out["FailureBucketName"], Key="aws/lambda/probe")["ServerSideEncryption"] == "aws:kms"
    backend.client("events").put_events(Entries=[{"Source": "stream.failures", "DetailType": "Failure",
                                                  "Detail": "{}", "EventBusName": out["BusName"]}])
    assert backend.client("sqs").receive_message(QueueUrl=out["AlertQueueUrl"], WaitTimeSeconds=1)["Messages"]
    assert backend.client("ssm").get_parameter(Name=stack.resources["AlertTopicParameterFA40D96D"].physical_id)[
        "Parameter"]["Value"] == stack.resources["AlertTopic2720D535"].physical_id
