"""lint_stack: each rule fires on the template that has the problem and stays quiet on one without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.deploy.template_reader import describe_template
from harness.deploy.synth import synthesize
from harness.lint import RULES, Finding, lint_stack, lint_text

FIXTURE = Path(__file__).parents[1] / "deploy" / "fixtures" / "assembly" / "Fixture.template.json"
SAFE = {"MaximumRetryAttempts": 2, "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Queue", "Arn"]}}}}


def template(mapping_props: dict[str, Any] | None = None, *, consumer_code: str = "def handler(e, c): pass",
             policies: list[dict[str, Any]] | None = None, **resources: Any) -> dict[str, Any]:
    """Table -> mapping -> consumer (inline code, role with `policies`) and a standard queue `Queue`."""
    props = {"EventSourceArn": {"Fn::GetAtt": ["Table", "StreamArn"]}, "FunctionName": {"Ref": "Consumer"},
             "StartingPosition": "LATEST", **(mapping_props if mapping_props is not None else SAFE)}
    return {"Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [
            {"PolicyName": "inline", "PolicyDocument": {"Statement": policies or []}}]}},
        "Consumer": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "index.handler", "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"ZipFile": consumer_code}}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": props},
        **resources}}


def lint(t: dict[str, Any], **kwargs: Any) -> list[Finding]:
    return lint_stack(describe_template(t, stack_name="T"), t, **kwargs)


def rules(t: dict[str, Any], **kwargs: Any) -> list[str]:
    return [f.rule for f in lint(t, **kwargs)]


def test_a_safe_mapping_has_no_findings() -> None:
    assert lint(template()) == []


def test_every_rule_has_a_spec_section_and_a_plain_consequence() -> None:
    assert len({r.id for r in RULES}) == 6
    for rule in RULES:
        assert rule.spec_section.startswith("§") and len(rule.consequence) > 60


# -- 1. infinite retries --------------------------------------------------------------------------

def test_spec_1_8_unbounded_retries_on_dynamodb_blocks_the_shard_24_hours() -> None:
    """Spec 1, 8: -1/-1 (the defaults) retries until the record leaves the stream (24 h)."""
    [f] = lint(template({"DestinationConfig": SAFE["DestinationConfig"]}))
    assert (f.rule, f.severity, f.mapping, f.spec_section) == ("unbounded-retries", "warning", "Mapping", "§1, §8, §10")
    assert "DynamoDB Streams keep records 24 hours" in f.message
    assert "blocks its whole shard" in f.consequence


def test_spec_10_unbounded_retries_on_kinesis_names_the_streams_retention() -> None:
    t = template({"EventSourceArn": {"Fn::GetAtt": ["Stream", "Arn"]}, "DestinationConfig": SAFE["DestinationConfig"]},
                 Stream={"Type": "AWS::Kinesis::Stream", "Properties": {"RetentionPeriodHours": 8760}})
    [f] = lint(t)
    assert f.rule == "unbounded-retries" and "this stream keeps records 8760 hours" in f.message


@pytest.mark.parametrize("props", [{"MaximumRetryAttempts": 0}, {"MaximumRecordAgeInSeconds": 60},
                                   {"MaximumRetryAttempts": {"Ref": "Unknown"}}])
def test_spec_1_bounded_or_unreadable_retries_do_not_fire(props: dict[str, Any]) -> None:
    t = template({"DestinationConfig": SAFE["DestinationConfig"], **props})
    assert "unbounded-retries" not in rules(t)


# -- 2. no destination ----------------------------------------------------------------------------

def test_spec_3_no_destination_loses_failed_batches() -> None:
    [f] = lint(template({"MaximumRetryAttempts": 2}))
    assert (f.rule, f.spec_section) == ("no-on-failure-destination", "§1 (end of retries), §3")
    assert "lost" in f.consequence


# -- 3. S3 destination writers without s3:ResourceAccount ---------------------------------------

def s3_template(statement: dict[str, Any], bucket_props: dict[str, Any] | None = None) -> dict[str, Any]:
    props = {"MaximumRetryAttempts": 2,
             "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Bucket", "Arn"]}}}}
    return template(props, policies=[statement],
                    Bucket={"Type": "AWS::S3::Bucket", "Properties": bucket_props or {}})


BUCKET_OBJECTS = {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}
GUARD = {"StringEquals": {"s3:ResourceAccount": {"Ref": "AWS::AccountId"}}}


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": ["s3:PutObject", "s3:ListBucket"], "Resource": BUCKET_OBJECTS},
    {"Effect": "Allow", "Action": "s3:Put*", "Resource": [{"Fn::GetAtt": ["Bucket", "Arn"]}, BUCKET_OBJECTS]},
    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*"},
    {"Effect": "Allow", "Action": "*", "Resource": "*"},
])
def test_spec_5_s3_destination_writable_without_resource_account_fires(statement: dict[str, Any]) -> None:
    [f] = lint(s3_template(statement))
    assert (f.rule, f.spec_section) == ("s3-destination-without-resource-account", "§5")
    assert "Consumer's role (Role)" in f.message and "Role.Policies[inline]" in f.message


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": BUCKET_OBJECTS, "Condition": GUARD},
    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*",
     "Condition": {"StringEquals": {"S3:ResourceAccount": "111122223333"}}},
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_OBJECTS},
    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::another-bucket/*"},
    {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"},
])
def test_spec_5_guarded_or_unrelated_statements_do_not_fire(statement: dict[str, Any]) -> None:
    assert lint(s3_template(statement)) == []


def test_spec_5_named_bucket_matches_literal_resources() -> None:
    statement = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::failures-prod/*"}
    assert rules(s3_template(statement, {"BucketName": "failures-prod"})) == ["s3-destination-without-resource-account"]
    assert rules(s3_template(statement, {"BucketName": "failures-dev"})) == []


def test_spec_5_cdk_fixture_grant_read_write_fires_and_the_samples_guarded_grant_does_not() -> None:
    fixture = json.loads(FIXTURE.read_text())
    assert [f.rule for f in lint(fixture)] == ["s3-destination-without-resource-account"]
    sample = synthesize(None).template  # infra/'s AccountGuardedS3OnFailureDestination
    assert "s3-destination-without-resource-account" not in rules(sample)


# -- 4. FIFO destination ---------------------------------------------------------------------------

@pytest.mark.parametrize(("resources", "destination"), [
    ({"Fifo": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}}}, {"Fn::GetAtt": ["Fifo", "Arn"]}),
    ({"Fifo": {"Type": "AWS::SNS::Topic", "Properties": {"FifoTopic": "true"}}}, {"Ref": "Fifo"}),
    ({}, "arn:aws:sqs:us-east-1:111122223333:failures.fifo"),
])
def test_spec_3_1_fifo_destination_fires(resources: dict[str, Any], destination: Any) -> None:
    t = template({"MaximumRetryAttempts": 2, "DestinationConfig": {"OnFailure": {"Destination": destination}}}, **resources)
    [f] = lint(t)
    assert (f.rule, f.spec_section) == ("fifo-destination", "§3.1") and "FIFO" in f.message


# -- 5. batchItemFailures returned but ignored ---------------------------------------------------

PARTIAL_CODE = "def handler(event, context):\n    return {'batchItemFailures': []}\n"


def test_spec_2_2_inline_code_returning_batch_item_failures_without_the_setting_fires() -> None:
    [f] = lint(template(consumer_code=PARTIAL_CODE))
    assert (f.rule, f.spec_section) == ("ignored-batch-item-failures", "§2.2")
    assert "<inline Code.ZipFile>:2 (batchItemFailures)" in f.message


def test_spec_2_2_the_setting_on_silences_it() -> None:
    t = template({**SAFE, "FunctionResponseTypes": ["ReportBatchItemFailures"], "BisectBatchOnFunctionError": True},
                 consumer_code=PARTIAL_CODE)
    assert lint(t) == []


@pytest.mark.parametrize(("filename", "code"), [
    ("app.py", "from aws_lambda_powertools.utilities.batch import process_partial_response\n"),
    ("app.py", "processor = BatchProcessor(event_type=EventType.DynamoDBStreams)\n"),
    ("index.mjs", "export const handler = async (e, c) => processPartialResponse(e, rec, processor, { context: c });\n"),
])
def test_spec_2_2_code_folder_with_powertools_partial_batch_fires(tmp_path: Path, filename: str, code: str) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / filename).write_text("import x\n" + code)
    [f] = lint(template(), code_dirs={"Consumer": tmp_path})
    assert f.rule == "ignored-batch-item-failures" and f"src/{filename}:2" in f.message


def test_spec_2_2_installed_dependencies_in_the_code_folder_are_not_the_consumers_code(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return None\n")
    for folder in ("aws_lambda_powertools/utilities/batch", "node_modules/@aws-lambda-powertools/batch"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "base.py").write_text("class BatchProcessor: batchItemFailures = []\n")
    (tmp_path / "aws_lambda_powertools-3.0.0.dist-info").mkdir()
    (tmp_path / "renamed").mkdir()
    (tmp_path / "renamed" / "x.js").write_text("processPartialResponse()\n")
    (tmp_path / "dist_renamed-1.0.dist-info").mkdir()
    (tmp_path / "dist_renamed-1.0.dist-info" / "top_level.txt").write_text("renamed\n")
    assert lint(template(), code_dirs={"Consumer": tmp_path}) == []


def test_spec_2_2_a_missing_code_folder_is_an_error_naming_the_function(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"code_dirs\['Consumer'\]: code folder .*missing"):
        lint(template(), code_dirs={"Consumer": tmp_path / "missing"})


def test_spec_2_2_the_samples_consumer_code_mentions_batch_item_failures() -> None:
    """The sample's consumer returns batchItemFailures when REPORT_BATCH_ITEM_FAILURES is true; with
    the default stack (ReportBatchItemFailures off) the static look warns, as it should for code that can."""
    root = Path(__file__).parents[3]
    sample = synthesize(None).template
    consumer = next(lid for lid, r in sample["Resources"].items()
                    if lid.startswith("ConsumerFunction") and r["Type"] == "AWS::Lambda::Function")
    found = lint(sample, code_dirs={consumer: root / "lambdas" / "stream_consumer"})
    assert [f.rule for f in found] == ["ignored-batch-item-failures"]


# -- 6. partial batch responses without bisect -----------------------------------------------------

def test_spec_2_2_0_3_partial_responses_without_bisect_on_batches_over_one_fire() -> None:
    [f] = lint(template({**SAFE, "FunctionResponseTypes": ["ReportBatchItemFailures"], "BatchSize": 10}))
    assert (f.rule, f.spec_section) == ("partial-batch-without-bisect", "§2.2, §0.3")
    assert "BatchSize is 10" in f.message


@pytest.mark.parametrize("props", [{"BatchSize": 1}, {"BisectBatchOnFunctionError": True}, {"FunctionResponseTypes": []}])
def test_spec_2_2_partial_without_bisect_quiet_cases(props: dict[str, Any]) -> None:
    t = template({**SAFE, "FunctionResponseTypes": ["ReportBatchItemFailures"], **props})
    assert "partial-batch-without-bisect" not in rules(t)


def test_spec_2_2_default_batch_size_counts_as_over_one() -> None:
    """Spec 7.1: BatchSize defaults to 100."""
    t = template({**SAFE, "FunctionResponseTypes": ["ReportBatchItemFailures"]})
    assert rules(t) == ["partial-batch-without-bisect"]


# -- several findings and the text ---------------------------------------------------------------

def test_findings_come_pipeline_by_pipeline_in_rule_order_and_render() -> None:
    t = template({"FunctionResponseTypes": ["ReportBatchItemFailures"]})
    found = lint(t)
    assert [f.rule for f in found] == ["unbounded-retries", "no-on-failure-destination", "partial-batch-without-bisect"]
    text = lint_text(found)
    assert text.startswith("warning [unbounded-retries] Mapping\n")
    assert "  spec: §1 (end of retries), §3\n" in text
    assert text.endswith("3 findings on 1 mapping\n")


def test_lint_text_when_clean() -> None:
    assert lint_text([]) == "No findings.\n"
