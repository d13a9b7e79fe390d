"""describe_template: the pipelines a template holds, read without deploying it.

Small hand-written CloudFormation dicts, one concern each, plus the CDK fixture assembly and
the sample's own synthesized template.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.deploy.describe import describe_json, describe_text
from harness.deploy.failure_handlers import admits_failure_keys
from harness.deploy.stack_model import PipelineLookupError, StackDescription
from harness.deploy.template_reader import describe_template
from harness.deploy.synth import SynthResult, synthesize

FIXTURE = Path(__file__).parent / "fixtures" / "assembly" / "Fixture.template.json"
QUEUE_ARN = "arn:aws:sqs:eu-west-1:111122223333:failures"


# -- template builders: each returns one resource, as a CDK or hand-written template would -----

def table(view: str | None = "NEW_AND_OLD_IMAGES", keys: tuple[tuple[str, str], ...] = (("pk", "HASH"),),
          rtype: str = "AWS::DynamoDB::Table", **extra: Any) -> dict[str, Any]:
    props: dict[str, Any] = {"KeySchema": [{"AttributeName": n, "KeyType": t} for n, t in keys], **extra}
    if view:
        props["StreamSpecification"] = {"StreamViewType": view}
    return {"Type": rtype, "Properties": props}


def function(role: str | None = "ConsumerRole", **props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"Runtime": "python3.12", "Handler": "app.handler",
                            "Code": {"ZipFile": "def handler(e, c): return None"}}
    if role:
        base["Role"] = {"Fn::GetAtt": [role, "Arn"]}
    return {"Type": "AWS::Lambda::Function", "Properties": {**base, **props}}


def role(*policies: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {"AssumeRolePolicyDocument": {"Statement": []}}
    if policies:
        props["Policies"] = list(policies)
    return {"Type": "AWS::IAM::Role", "Properties": props}


def mapping(source: Any = None, fn: Any = None, **props: Any) -> dict[str, Any]:
    return {"Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"EventSourceArn": source if source is not None else {"Fn::GetAtt": ["SourceTable", "StreamArn"]},
                           "FunctionName": fn if fn is not None else {"Ref": "ConsumerFunction"},
                           "StartingPosition": "TRIM_HORIZON", **props}}


def on_failure(destination: Any) -> dict[str, Any]:
    return {"DestinationConfig": {"OnFailure": {"Destination": destination}}}


def stack(**resources: Any) -> dict[str, Any]:
    base = {"SourceTable": table(), "ConsumerRole": role(), "ConsumerFunction": function()}
    return {"Resources": {**base, **resources}}


def only(template: dict[str, Any]) -> Any:
    desc = describe_template(template, stack_name="Test")
    assert len(desc.pipelines) == 1, (desc.pipelines, desc.notes)
    return desc.pipelines[0]


def notes_of(template: dict[str, Any]) -> str:
    return "\n".join(describe_template(template, stack_name="Test").notes)


# -- the fixture assembly and the sample's synthesized template ---------------------------------

def test_cdk_fixture_template_reads_every_part_of_the_pipeline() -> None:
    desc = describe_template(json.loads(FIXTURE.read_text()), stack_name="Fixture")
    p = desc.pipeline()
    assert p.mapping.logical_id == "ConsumerDynamoDBEventSourceFixtureSourceCB0F45BA0E6C78FA"
    assert (p.stream.logical_id, p.stream.kind, p.stream.key_schema, p.stream.stream_view_type) == \
        ("Source71E471F1", "dynamodb", ("pk",), "NEW_AND_OLD_IMAGES")
    assert p.consumer.logical_id == "Consumer8D6BE417"
    assert (p.consumer.runtime, p.consumer.handler, p.consumer.timeout_s, p.consumer.memory_mb) == \
        ("python3.11", "app.handler", 5.0, 128)
    assert p.consumer.role == "ConsumerServiceRoleF0394C51"
    assert p.consumer.code_path == "asset.e0f8ad09cda77be4bccde1f0b90886a295469a6cce37dbdd641dde86a588d91d"
    s = p.mapping.settings
    assert (s["BatchSize"], s["MaximumRetryAttempts"], s["MaximumRecordAgeInSeconds"]) == (10, 2, 3600)
    assert s["BisectBatchOnFunctionError"] is True and s["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (p.mapping.destination.kind, p.mapping.destination.logical_id) == ("s3", "Failures8A3E1A2F")
    [n] = p.notifications
    assert (n.function, n.prefix, n.admits_failure_records, n.declared_by) == \
        ("FailureHandler8F8A908C", "aws/lambda/", True, "FailuresNotifications2120DE0C")
    assert [h.logical_id for h in p.failure_handlers] == ["FailureHandler8F8A908C"]
    assert [(a.kind, a.logical_id, a.via) for a in p.alerts] == [("sns", "Alerts91F83244", "environment TOPIC")]
    # The CDK's own notifications handler is a function of the stack, but no pipeline's.
    assert len(desc.functions) == 3 and desc.notes == ()


@pytest.fixture(scope="module")
def sample() -> SynthResult:
    # The same context the cdk-nag test synthesizes (cached by content): every ESM knob away from its default.
    return synthesize({"batchSize": 25, "retryAttempts": -1, "reportBatchItemFailures": True,
                       "parallelizationFactor": 2, "maxRecordAgeSeconds": 600})


def test_sample_stack_settings_are_those_its_context_asked_for(sample: SynthResult) -> None:
    """Spec 7.1: the settings as deployed, under their Lambda API names, not the CDK context keys."""
    p = describe_template(sample.template, stack_name=sample.stack_name).pipeline()
    s = p.mapping.settings
    assert (s["BatchSize"], s["MaximumRetryAttempts"], s["MaximumRecordAgeInSeconds"], s["ParallelizationFactor"]) == \
        (25, -1, 600, 2)
    assert s["FunctionResponseTypes"] == ["ReportBatchItemFailures"] and s["StartingPosition"] == "TRIM_HORIZON"
    assert p.stream.logical_id.startswith("SourceTable") and p.consumer.logical_id.startswith("ConsumerFunction")
    assert p.mapping.destination.kind == "s3" and p.mapping.destination.logical_id.startswith("FailureBucket")
    assert [h.logical_id[:len("FailureHandlerFunction")] for h in p.failure_handlers] == ["FailureHandlerFunction"]
    assert [a.kind for a in p.alerts] == ["sns"] and p.alerts[0].logical_id.startswith("AlertTopic")
    assert (sample.assembly_dir / p.consumer.code_path).is_dir()


def test_function_code_dirs_are_the_asset_folders_inside_the_assembly(sample: SynthResult) -> None:
    """Every function whose template names its asset maps to that folder of the assembly; lint reads code there."""
    desc = describe_template(sample.template, stack_name=sample.stack_name)
    dirs = desc.function_code_dirs(sample.assembly_dir)
    consumer = desc.pipeline().consumer
    assert dirs[consumer.logical_id] == sample.assembly_dir / consumer.code_path and dirs[consumer.logical_id].is_dir()
    assert set(dirs) == {f.logical_id for f in desc.functions if f.code_path}


# -- streams --------------------------------------------------------------------------------------

def test_key_schema_is_hash_then_range_whatever_the_written_order() -> None:
    p = only(stack(SourceTable=table(keys=(("sk", "RANGE"), ("pk", "HASH"))), M=mapping()))
    assert p.stream.key_schema == ("pk", "sk")


def test_global_table_stream_as_cdk_table_v2_synthesizes_it() -> None:
    gt = table("NEW_IMAGE", rtype="AWS::DynamoDB::GlobalTable",
               Replicas=[{"Region": {"Ref": "AWS::Region"}}, {"Region": "eu-west-1"}])
    p = only(stack(SourceTable=gt, M=mapping()))
    assert (p.stream.resource_type, p.stream.stream_view_type) == ("AWS::DynamoDB::GlobalTable", "NEW_IMAGE")
    assert p.stream.replicas == ({"Ref": "AWS::Region"}, "eu-west-1")
    assert "global table" in describe_text(describe_template(stack(SourceTable=gt, M=mapping()), stack_name="T"))


def test_table_without_stream_is_noted_and_has_no_stream() -> None:
    t = stack(SourceTable=table(view=None), M=mapping())
    p = only(t)
    assert p.stream is None and p.mapping.source is None and p.mapping.source_kind == "dynamodb"
    assert "has no StreamSpecification" in notes_of(t)


def test_kinesis_stream_mapping() -> None:
    t = stack(Stream={"Type": "AWS::Kinesis::Stream", "Properties": {"RetentionPeriodHours": 168}},
              M=mapping({"Fn::GetAtt": ["Stream", "Arn"]}))
    p = only(t)
    assert (p.stream.logical_id, p.stream.kind, p.stream.retention_hours, p.stream.consumer) == ("Stream", "kinesis", 168, None)


def test_kinesis_default_retention_is_24_hours() -> None:
    """Spec 10: 24 h by default."""
    p = only(stack(Stream={"Type": "AWS::Kinesis::Stream", "Properties": {}}, M=mapping({"Fn::GetAtt": ["Stream", "Arn"]})))
    assert p.stream.retention_hours == 24


@pytest.mark.parametrize("source", [{"Ref": "Fanout"}, {"Fn::GetAtt": ["Fanout", "ConsumerARN"]}])
def test_kinesis_consumer_mapping_reads_the_consumers_stream(source: dict[str, Any]) -> None:
    t = stack(Stream={"Type": "AWS::Kinesis::Stream", "Properties": {}},
              Fanout={"Type": "AWS::Kinesis::StreamConsumer",
                      "Properties": {"ConsumerName": "fanout", "StreamARN": {"Fn::GetAtt": ["Stream", "Arn"]}}},
              M=mapping(source))
    desc = describe_template(t, stack_name="T")
    p = desc.pipeline(table="Fanout")
    assert (p.mapping.source, p.stream.kind, p.stream.consumer) == ("Stream", "kinesis", "Fanout")
    assert p.label == "M (Stream via Fanout -> ConsumerFunction)"
    assert desc.streams[-1].consumer is None  # the stream itself is listed without a consumer


def test_literal_stream_arn_is_a_pipeline_with_no_source_and_a_note() -> None:
    arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/Orders/stream/2024-01-01T00:00:00.000"
    t = stack(M=mapping(arn))
    p = only(t)
    assert (p.stream, p.mapping.source, p.mapping.source_kind, p.mapping.event_source_arn) == (None, None, "dynamodb", arn)
    assert "is a stream from outside this template" in notes_of(t)
    assert "a stream from outside the template" in p.label


def test_imported_stream_arn_is_kept_as_written() -> None:
    source = {"Fn::ImportValue": "OrdersStreamArn"}
    t = stack(M=mapping(source))
    p = only(t)
    assert p.stream is None and p.mapping.event_source_arn == source
    assert "cannot be read from the template alone" in notes_of(t)


def test_sqs_mapping_is_not_a_stream_pipeline() -> None:
    t = stack(Queue={"Type": "AWS::SQS::Queue", "Properties": {}},
              M={"Type": "AWS::Lambda::EventSourceMapping",
                 "Properties": {"EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]}, "FunctionName": {"Ref": "ConsumerFunction"}}})
    desc = describe_template(t, stack_name="T")
    assert desc.pipelines == ()
    assert "not a DynamoDB or Kinesis stream" in "\n".join(desc.notes)


# -- the consumer: function, alias, version, names and ARNs -----------------------------------------

def alias(name: str = "live", fn: str = "ConsumerFunction") -> dict[str, Any]:
    return {"Type": "AWS::Lambda::Alias",
            "Properties": {"FunctionName": {"Ref": fn}, "FunctionVersion": {"Fn::GetAtt": ["Version", "Version"]},
                           "Name": name}}


def version(fn: str = "ConsumerFunction") -> dict[str, Any]:
    return {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": fn}}}


@pytest.mark.parametrize(("fn", "qualifier"), [
    ({"Ref": "ConsumerFunction"}, None),
    ({"Fn::GetAtt": ["ConsumerFunction", "Arn"]}, None),
    ({"Ref": "Live"}, "Live"),
    ({"Ref": "Version"}, "Version"),
    ({"Fn::Join": ["", ["arn:aws:lambda:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":function:",
                        {"Ref": "ConsumerFunction"}, ":live"]]}, "Live"),
    ({"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${ConsumerFunction}:live"}, "Live"),
    ({"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${ConsumerFunction}"}, None),
    ("orders-consumer", None),
    ("arn:aws:lambda:eu-west-1:111122223333:function:orders-consumer:live", "Live"),
])
def test_function_name_forms_resolve_to_the_function_and_its_qualifier(fn: Any, qualifier: str | None) -> None:
    t = stack(ConsumerFunction=function(FunctionName="orders-consumer"), Version=version(), Live=alias(), M=mapping(fn=fn))
    p = only(t)
    assert (p.mapping.function, p.mapping.qualifier, p.consumer.logical_id) == ("ConsumerFunction", qualifier, "ConsumerFunction")


def test_mapping_on_alias_is_labelled_with_the_alias() -> None:
    p = only(stack(Version=version(), Live=alias(), M=mapping(fn={"Ref": "Live"})))
    assert p.label == "M (SourceTable -> ConsumerFunction:Live)"


def test_function_from_outside_the_template_is_not_described() -> None:
    t = stack(M=mapping(fn="someone-elses-function"))
    desc = describe_template(t, stack_name="T")
    assert desc.pipelines == ()
    assert "'someone-elses-function' is no FunctionName of this template" in "\n".join(desc.notes)


def test_function_description_reads_layers_environment_and_asset_path() -> None:
    fn = function(Timeout=30, MemorySize="512", Layers=[{"Ref": "Deps"}, "arn:aws:lambda:us-east-1:017000801446:layer:X:1"],
                  Environment={"Variables": {"TABLE": {"Ref": "SourceTable"}}})
    fn["Metadata"] = {"aws:asset:path": "asset.abc"}
    t = stack(ConsumerFunction=fn, Deps={"Type": "AWS::Lambda::LayerVersion", "Properties": {}}, M=mapping())
    c = only(t).consumer
    assert (c.timeout_s, c.memory_mb, c.layers, c.code_path) == (30.0, 512, ("Deps",), "asset.abc")
    assert c.environment == {"TABLE": {"Ref": "SourceTable"}} and c.role == "ConsumerRole"
    assert "Layers[1]" in notes_of(t)


# -- settings: API names, defaults, parameters -------------------------------------------------------

def test_spec_7_1_settings_defaults_are_filled_in() -> None:
    """Spec 7.1 and 1: BatchSize 100, retries -1, record age -1, bisect off, factor 1, window 0..."""
    s = only(stack(M=mapping())).mapping.settings
    assert s == {"Enabled": True, "BatchSize": 100, "MaximumBatchingWindowInSeconds": 0,
                 "StartingPosition": "TRIM_HORIZON", "StartingPositionTimestamp": None, "ParallelizationFactor": 1,
                 "MaximumRetryAttempts": -1, "MaximumRecordAgeInSeconds": -1, "BisectBatchOnFunctionError": False,
                 "TumblingWindowInSeconds": 0, "FunctionResponseTypes": [], "FilterCriteria": None,
                 "MetricsConfig": None}


def test_settings_feed_the_engines_own_validation() -> None:
    """What describe yields is what CreateEventSourceMapping takes (the oracle hands it to parse_mapping)."""
    from harness.esm.config import parse_mapping

    pattern = '{"eventName": ["INSERT"]}'
    s = only(stack(M=mapping(BatchSize=5, MaximumRetryAttempts=1, FilterCriteria={"Filters": [{"Pattern": pattern}]}))).mapping.settings
    cfg = parse_mapping({"EventSourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/x",
                         "FunctionName": "fn", **s})
    assert (cfg.BatchSize, cfg.MaximumRetryAttempts, cfg.Filters) == (5, 1, (pattern,))


def test_parameter_values_resolve_to_their_default_with_a_note() -> None:
    t = stack(M=mapping(BatchSize={"Ref": "Batch"}, BisectBatchOnFunctionError={"Fn::If": ["Bisect", True, False]},
                        MaximumRetryAttempts={"Ref": "Retries"}))
    t["Parameters"] = {"Batch": {"Type": "Number", "Default": "25"}, "Mode": {"Type": "String", "Default": "safe"},
                       "Retries": {"Type": "Number"}}
    t["Conditions"] = {"Bisect": {"Fn::Equals": [{"Ref": "Mode"}, "safe"]}}
    s = only(t).mapping.settings
    assert s["BatchSize"] == 25 and s["BisectBatchOnFunctionError"] is True
    assert s["MaximumRetryAttempts"] == {"Ref": "Retries"}  # no Default: kept as written
    notes = notes_of(t)
    assert "BatchSize is Ref Batch: read as 25 (the Default of parameter Batch)" in notes
    assert "MaximumRetryAttempts is Ref Retries, which cannot be read from the template alone" in notes
    assert "has no Default" in notes


def test_cloudformation_string_values_are_converted_without_a_note() -> None:
    t = stack(M=mapping(BatchSize="25", Enabled="false"))
    s = only(t).mapping.settings
    assert (s["BatchSize"], s["Enabled"]) == (25, False)
    assert notes_of(t) == ""


def test_pseudo_parameters_are_not_guessed() -> None:
    t = stack(M=mapping(BatchSize={"Fn::If": ["InUsEast", 10, 20]}))
    t["Conditions"] = {"InUsEast": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}}
    assert only(t).mapping.settings["BatchSize"] == {"Fn::If": ["InUsEast", 10, 20]}
    assert "AWS::Region is known only at deploy time" in notes_of(t)


def test_parameter_event_source_arn_uses_its_default() -> None:
    t = stack(M=mapping({"Ref": "StreamArn"}))
    t["Parameters"] = {"StreamArn": {"Type": "String",
                                     "Default": "arn:aws:kinesis:us-east-1:111122223333:stream/orders"}}
    p = only(t)
    assert (p.mapping.source, p.mapping.source_kind) == (None, "kinesis")
    assert "the Default of parameter StreamArn" in notes_of(t)


def test_mapping_whose_condition_is_false_is_skipped() -> None:
    t = stack(M=mapping())
    t["Resources"]["M"]["Condition"] = "Never"
    t["Conditions"] = {"Never": {"Fn::Equals": ["a", "b"]}}
    desc = describe_template(t, stack_name="T")
    assert desc.pipelines == () and "its condition Never is false" in "\n".join(desc.notes)


# -- destinations -------------------------------------------------------------------------------

@pytest.mark.parametrize(("resources", "destination", "expected"), [
    ({"Bucket": {"Type": "AWS::S3::Bucket"}}, {"Fn::GetAtt": ["Bucket", "Arn"]}, ("s3", "Bucket", False)),
    ({"Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}}, {"Fn::GetAtt": ["Queue", "Arn"]}, ("sqs", "Queue", False)),
    ({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}, {"Ref": "Topic"}, ("sns", "Topic", False)),
    ({"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}}}, {"Fn::GetAtt": ["Queue", "Arn"]},
     ("sqs", "Queue", True)),
    ({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts.fifo"}}}, {"Ref": "Topic"},
     ("sns", "Topic", True)),
    ({}, QUEUE_ARN, ("sqs", None, False)),
    ({}, QUEUE_ARN + ".fifo", ("sqs", None, True)),
    ({}, "arn:aws:s3:::shared-failures", ("s3", None, False)),
])
def test_destination_kind_logical_id_and_fifo(resources: dict[str, Any], destination: Any,
                                              expected: tuple[Any, ...]) -> None:
    d = only(stack(**resources, M=mapping(**on_failure(destination)))).mapping.destination
    assert (d.kind, d.logical_id, d.fifo) == expected
    assert d.arn == destination


@pytest.mark.parametrize("props", [{}, on_failure(""), {"DestinationConfig": {}}])
def test_no_destination(props: dict[str, Any]) -> None:
    """Spec 3.1: an empty Destination removes it."""
    assert only(stack(M=mapping(**props))).mapping.destination is None


def test_queue_ref_is_its_url_and_is_noted() -> None:
    t = stack(Queue={"Type": "AWS::SQS::Queue", "Properties": {}}, M=mapping(**on_failure({"Ref": "Queue"})))
    assert only(t).mapping.destination.kind == "sqs"
    assert "is the queue's URL; Lambda needs its ARN" in notes_of(t)


# -- S3 notifications and failure handlers ----------------------------------------------------------

def cdk_notifications(prefix: str | None = "aws/lambda/", events: tuple[str, ...] = ("s3:ObjectCreated:*",),
                      fn: str = "Handler") -> dict[str, Any]:
    item: dict[str, Any] = {"Events": list(events), "LambdaFunctionArn": {"Fn::GetAtt": [fn, "Arn"]}}
    if prefix is not None:
        item["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}
    return {"Type": "Custom::S3BucketNotifications",
            "Properties": {"ServiceToken": "x", "BucketName": {"Ref": "Bucket"},
                           "NotificationConfiguration": {"LambdaFunctionConfigurations": [item]}}}


def s3_stack(bucket: dict[str, Any] | None = None, **resources: Any) -> dict[str, Any]:
    """A pipeline with an S3 destination `Bucket` and a function `Handler` (role `HandlerRole`);
    `resources` add to or replace these."""
    base = {"Bucket": bucket or {"Type": "AWS::S3::Bucket", "Properties": {}}, "HandlerRole": role(),
            "Handler": function(role="HandlerRole"), "M": mapping(**on_failure({"Fn::GetAtt": ["Bucket", "Arn"]}))}
    return stack(**{**base, **resources})


@pytest.mark.parametrize(("prefix", "admitted"), [("aws/lambda/", True), (None, True), ("aws/", True),
                                                  ("archive/", False), ("aws/lambda/async/", False)])
def test_spec_4_cdk_notification_feeds_a_failure_handler_when_its_prefix_admits_esm_keys(
        prefix: str | None, admitted: bool) -> None:
    t = s3_stack(Notes=cdk_notifications(prefix))
    p = only(t)
    [n] = p.notifications
    assert (n.bucket, n.function, n.admits_failure_records) == ("Bucket", "Handler", admitted)
    assert [h.logical_id for h in p.failure_handlers] == (["Handler"] if admitted else [])
    if not admitted:
        assert "not of ESM failure records" in notes_of(t)


def bucket_with_native_notification(rules: list[dict[str, str]], event: str = "s3:ObjectCreated:*") -> dict[str, Any]:
    config: dict[str, Any] = {"Event": event, "Function": {"Fn::GetAtt": ["Handler", "Arn"]}}
    if rules:
        config["Filter"] = {"S3Key": {"Rules": rules}}
    return {"Type": "AWS::S3::Bucket",
            "Properties": {"NotificationConfiguration": {"LambdaConfigurations": [config]}}}


@pytest.mark.parametrize(("rules", "event", "admitted"), [
    ([{"Name": "prefix", "Value": "aws/lambda/"}], "s3:ObjectCreated:*", True),
    ([{"Name": "Prefix", "Value": "aws/lambda/"}], "s3:ObjectCreated:Put", True),
    ([], "s3:ObjectCreated:*", True),
    ([{"Name": "prefix", "Value": "incoming/"}], "s3:ObjectCreated:*", False),
    ([{"Name": "suffix", "Value": ".json"}], "s3:ObjectCreated:*", False),
    ([{"Name": "prefix", "Value": "aws/lambda/"}], "s3:ObjectRemoved:*", False),
])
def test_spec_4_plain_bucket_notification_as_sam_writes_it(rules: list[dict[str, str]], event: str, admitted: bool) -> None:
    p = only(s3_stack(bucket_with_native_notification(rules, event)))
    [n] = p.notifications
    assert (n.declared_by, n.events, n.admits_failure_records) == ("Bucket", (event,), admitted)
    assert len(p.failure_handlers) == int(admitted)


@pytest.mark.parametrize(("events", "prefix", "suffix", "admitted"), [
    (("s3:ObjectCreated:*",), "", "", True),
    (("s3:ObjectCreated:*",), "aws/lambda/0f", "", True),  # one mapping's UUID prefix
    (("s3:ObjectCreated:*",), "aws/lambda/0f8ad09c-aaaa-bbbb-cccc-123456789abc/", "", True),
    (("s3:ObjectCreated:*",), "aws/lambda/xyz", "", False),
    (("s3:ObjectCreated:*",), "", "c", True),
    (("s3:ObjectCreated:*",), "", ".json", False),  # spec 4: the documented key has no .json
    (("s3:ObjectCreated:Copy",), "", "", False),
])
def test_spec_4_which_filters_admit_esm_failure_keys(events: tuple[str, ...], prefix: str, suffix: str,
                                                     admitted: bool) -> None:
    assert admits_failure_keys(events, prefix, suffix)[0] is admitted


def test_notifications_on_another_bucket_are_not_the_pipelines() -> None:
    other = cdk_notifications()
    other["Properties"]["BucketName"] = {"Ref": "Other"}
    p = only(s3_stack(Other={"Type": "AWS::S3::Bucket"}, Notes=other))
    assert p.notifications == () and p.failure_handlers == ()


# -- alerts -----------------------------------------------------------------------------------------

def test_alerts_through_environment_variables() -> None:
    handler = function(role="HandlerRole", Environment={"Variables": {
        "TOPIC": {"Ref": "Topic"}, "QUEUE_URL": {"Ref": "Queue"},
        "BUS": {"Fn::Sub": "arn:aws:events:${AWS::Region}:${AWS::AccountId}:event-bus/${Bus}"}, "PLAIN": "x"}})
    t = s3_stack(Handler=handler, Notes=cdk_notifications(), Topic={"Type": "AWS::SNS::Topic"},
                 Queue={"Type": "AWS::SQS::Queue"}, Bus={"Type": "AWS::Events::EventBus", "Properties": {"Name": "b"}})
    alerts = only(t).alerts
    assert [(a.kind, a.logical_id, a.function, a.via) for a in alerts] == [
        ("sns", "Topic", "Handler", "environment TOPIC"), ("sqs", "Queue", "Handler", "environment QUEUE_URL"),
        ("events", "Bus", "Handler", "environment BUS")]


def test_alerts_through_policies_ses_identity_and_default_bus() -> None:
    ses = {"PolicyName": "mail", "PolicyDocument": {"Statement": [
        {"Effect": "Allow", "Action": ["ses:SendRawEmail"], "Resource": "*"}]}}
    events = {"Type": "AWS::IAM::Policy", "Properties": {
        "PolicyName": "events", "Roles": [{"Ref": "HandlerRole"}],
        "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": {
            "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"}}]}}}
    t = s3_stack(HandlerRole=role(ses), EventsPolicy=events, Notes=cdk_notifications(),
                 Sender={"Type": "AWS::SES::EmailIdentity", "Properties": {"EmailIdentity": "ops@example.com"}})
    alerts = only(t).alerts
    assert [(a.kind, a.logical_id) for a in alerts] == [("ses", "Sender"), ("events", "default")]
    assert "HandlerRole.Policies[mail]" in alerts[0].via and "EventsPolicy" in alerts[1].via


def test_policies_that_do_not_reach_an_alert_channel() -> None:
    deny = {"PolicyName": "p", "PolicyDocument": {"Statement": [
        {"Effect": "Deny", "Action": "ses:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "events:PutEvents", "Resource": "arn:aws:events:us-east-1:1:event-bus/orders"}]}}
    t = s3_stack(HandlerRole=role(deny), Notes=cdk_notifications(),
                 Sender={"Type": "AWS::SES::EmailIdentity", "Properties": {"EmailIdentity": "ops@example.com"}})
    assert only(t).alerts == ()


def test_ses_grant_without_identity_is_noted() -> None:
    grant = {"PolicyName": "p", "PolicyDocument": json.dumps({"Statement": [
        {"Effect": "Allow", "Action": "ses:SendEmail", "Resource": "*"}]})}
    t = s3_stack(HandlerRole=role(grant), Notes=cdk_notifications())
    assert only(t).alerts == ()
    assert "declares no AWS::SES::EmailIdentity" in notes_of(t)


# -- several pipelines and the lookup ------------------------------------------------------------

def two_pipelines() -> StackDescription:
    t = stack(Orders=table(), OrdersMapping=mapping({"Fn::GetAtt": ["Orders", "StreamArn"]}),
              ConsumerMapping=mapping())
    return describe_template(t, stack_name="Shop")


def test_two_pipelines_need_a_choice_and_the_error_lists_them() -> None:
    desc = two_pipelines()
    with pytest.raises(PipelineLookupError) as err:
        desc.pipeline()
    message = str(err.value)
    assert "stack Shop has 2 pipelines" in message
    assert "OrdersMapping (Orders -> ConsumerFunction)" in message
    assert "ConsumerMapping (SourceTable -> ConsumerFunction)" in message


def test_pipeline_lookup_by_mapping_or_table() -> None:
    desc = two_pipelines()
    assert desc.pipeline(mapping="ConsumerMapping").mapping.source == "SourceTable"
    assert desc.pipeline(table="Orders").mapping.logical_id == "OrdersMapping"
    assert desc.pipeline(mapping="OrdersMapping", table="Orders").mapping.logical_id == "OrdersMapping"
    with pytest.raises(PipelineLookupError, match=r"no pipeline with mapping='OrdersMapping', table='SourceTable'; "
                                                  r"its pipelines: OrdersMapping \(Orders -> ConsumerFunction\)"):
        desc.pipeline(mapping="OrdersMapping", table="SourceTable")


def test_no_pipeline_at_all_says_so() -> None:
    desc = describe_template({"Resources": {"SourceTable": table()}}, stack_name="Empty")
    with pytest.raises(PipelineLookupError, match="stack Empty has no stream pipeline"):
        desc.pipeline()


# -- bad input and SAM ------------------------------------------------------------------------------

@pytest.mark.parametrize(("template", "message"), [
    ({}, "stack T: template has no Resources section"),
    ({"Resources": {"X": {"Properties": {}}}}, "stack T: template resource 'X' must be an object with a string Type"),
    ([], "stack T: a template must be an object"),
])
def test_bad_templates_name_what_is_wrong(template: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        describe_template(template, stack_name="T")


def test_untranslated_sam_template_is_noted() -> None:
    t = {"Transform": "AWS::Serverless-2016-10-31",
         "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {}}}}
    desc = describe_template(t, stack_name="T")
    assert desc.pipelines == () and "SAM transform" in desc.notes[0] and "Fn" in desc.notes[0]


# -- rendering -------------------------------------------------------------------------------------

def test_describe_text_shows_the_flow_and_the_notes() -> None:
    t = s3_stack(Notes=cdk_notifications(), Topic={"Type": "AWS::SNS::Topic"},
                 Handler=function(role="HandlerRole", Timeout=60, Environment={"Variables": {"T": {"Ref": "Topic"}}}),
                 Other={"Type": "AWS::Kinesis::Stream", "Properties": {}})
    t["Resources"]["M"]["Properties"]["BatchSize"] = {"Ref": "Batch"}
    t["Parameters"] = {"Batch": {"Type": "Number", "Default": 7}}
    text = describe_text(describe_template(t, stack_name="Shop"))
    assert text.startswith("Stack Shop: 1 stream pipeline\n")
    for line in ("Pipeline M (SourceTable -> ConsumerFunction)",
                 "  stream        SourceTable: DynamoDB table stream (NEW_AND_OLD_IMAGES, key pk)",
                 "    BatchSize                       7",
                 "    MaximumRetryAttempts            -1",
                 "  consumer      ConsumerFunction: runtime python3.12, handler app.handler, timeout 3 s, memory 128 MB",
                 "  on failure    S3 bucket Bucket",
                 "  notification  Bucket s3:ObjectCreated:* (prefix 'aws/lambda/') -> Handler: feeds failure handler",
                 "  failure handler Handler: runtime python3.12, handler app.handler, timeout 60 s, memory 128 MB",
                 "    alert       SNS topic Topic (environment T)",
                 "Streams no described pipeline reads: Other: Kinesis data stream (retention 24 h)",
                 "Notes"):
        assert line in text.splitlines(), (line, text)
    assert "Default of parameter Batch" in text


def test_describe_text_without_destination_says_records_are_dropped() -> None:
    text = describe_text(describe_template(stack(M=mapping()), stack_name="T"))
    assert "  on failure    none: failed batches are dropped (spec 1, 3)" in text.splitlines()


def test_describe_json_is_plain_json_with_labels() -> None:
    desc = describe_template(json.loads(FIXTURE.read_text()), stack_name="Fixture")
    data = json.loads(json.dumps(describe_json(desc)))
    [p] = data["pipelines"]
    assert p["label"] == desc.pipelines[0].label
    assert p["mapping"]["settings"]["BatchSize"] == 10
    assert p["stream"]["key_schema"] == ["pk"]
    assert p["notifications"][0]["events"] == ["s3:ObjectCreated:*"]
    assert data["stack_name"] == "Fixture" and data["notes"] == []
