"""The stack: source table -> stream -> consumer (ESM) -> S3 failure bucket -> failure handler -> SNS.

Env-agnostic on purpose (no account or region baked in): the same synthesized template is
applied to the local backends and deployed unchanged to a real account with `cdk deploy`.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import jsii
from aws_cdk import (
    Aws,
    CfnOutput,
    Duration,
    RemovalPolicy,
    Stack,
    aws_cloudwatch as cloudwatch,
    aws_cloudwatch_actions as cw_actions,
    aws_dynamodb as dynamodb,
    aws_iam as iam,
    aws_lambda as lambda_,
    aws_lambda_event_sources as sources,
    aws_s3 as s3,
    aws_s3_notifications as s3n,
    aws_sns as sns,
)
from constructs import Construct

from bundle import ASSET_EXCLUDES, LAMBDAS, assemble
from settings import PipelineSettings

FAILURE_PREFIX = "aws/lambda/"  # where ESMs write on-failure records (spec §4)
ARCHIVE_PREFIX = "archive/"  # outside FAILURE_PREFIX, so archive copies never re-trigger the handler


class AccountGuardedS3OnFailureDestination(sources.S3OnFailureDestination):
    """S3OnFailureDestination without its `bucket.grantReadWrite(fn)`.

    The stock bind grants s3:GetObject*/List*/DeleteObject*/PutObject*/Abort* on the bucket with
    no condition. The ESM needs only s3:PutObject and s3:ListBucket (spec §5), and AWS recommends
    an `s3:ResourceAccount` condition so that a re-created bucket of the same name in another
    account never receives records. This binding grants exactly that, and nothing unconditioned.
    """

    def __init__(self, bucket: s3.IBucket) -> None:
        super().__init__(bucket)
        self._guarded_bucket = bucket

    @jsii.member(jsii_name="bind")
    def bind(self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction) -> lambda_.DlqDestinationConfig:
        bucket = self._guarded_bucket
        target_handler.add_to_role_policy(
            iam.PolicyStatement(
                sid="OnFailureDestinationSameAccountOnly",
                actions=["s3:PutObject", "s3:ListBucket"],
                resources=[bucket.bucket_arn, bucket.arn_for_objects("*")],
                conditions={"StringEquals": {"s3:ResourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        return lambda_.DlqDestinationConfig(destination=bucket.bucket_arn)


def assembled_code(function: str) -> str:
    """A private, throw-away folder per synth: two synths in parallel never share one."""
    scratch = Path(tempfile.mkdtemp(prefix=f"{function}-"))
    atexit.register(shutil.rmtree, scratch, True)
    return str(assemble(function, scratch / function))


class PipelineStack(Stack):
    """All resources of the pipeline; outputs are the contract with the harness (see README)."""

    def __init__(self, scope: Construct, construct_id: str, settings: PipelineSettings, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)

        source = dynamodb.Table(
            self, "SourceTable",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            removal_policy=RemovalPolicy.RETAIN,
        )
        projection = dynamodb.Table(
            self, "ProjectionTable",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            removal_policy=RemovalPolicy.RETAIN,
        )
        bucket = s3.Bucket(
            self, "FailureBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
            auto_delete_objects=False,
            lifecycle_rules=[
                # Raw records under aws/lambda/ are kept: they are the source of truth for replay.
                s3.LifecycleRule(id="ExpireArchive", prefix=ARCHIVE_PREFIX, expiration=Duration.days(400)),
                s3.LifecycleRule(id="AbortIncompleteUploads", abort_incomplete_multipart_upload_after=Duration.days(7)),
            ],
        )
        topic = sns.Topic(self, "AlertTopic", enforce_ssl=True)

        consumer = lambda_.Function(
            self, "ConsumerFunction",
            runtime=lambda_.Runtime.PYTHON_3_11,
            handler="app.handler",
            code=lambda_.Code.from_asset(str(LAMBDAS / "stream_consumer"), exclude=ASSET_EXCLUDES),
            timeout=Duration.seconds(30),
            memory_size=256,
            environment={
                "PROJECTION_TABLE": projection.table_name,
                # Must agree with the ESM's FunctionResponseTypes: both come from the same context key.
                "REPORT_BATCH_ITEM_FAILURES": "true" if settings.report_batch_item_failures else "false",
            },
        )
        # Only what the handler does (conditional put/delete); grant_read_write_data would add stream reads too.
        projection.grant(consumer, "dynamodb:PutItem", "dynamodb:DeleteItem")
        event_source = sources.DynamoEventSource(
            source,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=settings.batch_size,
            retry_attempts=settings.retry_attempts,
            bisect_batch_on_error=settings.bisect,
            max_record_age=Duration.seconds(settings.max_record_age_seconds),
            report_batch_item_failures=settings.report_batch_item_failures,
            parallelization_factor=settings.parallelization_factor,
            on_failure=AccountGuardedS3OnFailureDestination(bucket),
        )
        consumer.add_event_source(event_source)
        # CDK grants DescribeStream/GetRecords/GetShardIterator/ListStreams; ESM creation has been
        # reported to need ListShards as well (spec §5 [COMM]).
        consumer.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:ListShards"], resources=[source.table_stream_arn])
        )

        handler = lambda_.Function(
            self, "FailureHandlerFunction",
            runtime=lambda_.Runtime.PYTHON_3_11,
            handler="app.handler",
            # lambdas/failure_handler plus the shared record checks (infra/bundle.py).
            code=lambda_.Code.from_asset(assembled_code("failure_handler"), exclude=ASSET_EXCLUDES),
            timeout=Duration.seconds(60),
            memory_size=256,
            environment={
                "ALERT_TOPIC_ARN": topic.topic_arn,
                "ARCHIVE_PREFIX": ARCHIVE_PREFIX,
                "EXPECTED_BUCKET_OWNER": Aws.ACCOUNT_ID,
                **self._auto_replay_environment(settings, consumer),
            },
        )
        if settings.auto_replay:
            # Optional policy (lambdas/failure_handler/auto_replay.py): re-invoke the consumer, then
            # tag the failure object with the outcome.
            # The unqualified ARN only ($LATEST): grant_invoke would add "<arn>:*", every version and alias.
            handler.add_to_role_policy(iam.PolicyStatement(
                actions=["lambda:InvokeFunction"], resources=[consumer.function_arn]))
            handler.add_to_role_policy(iam.PolicyStatement(
                actions=["s3:GetObjectTagging", "s3:PutObjectTagging"],
                resources=[bucket.arn_for_objects(f"{FAILURE_PREFIX}*")],
            ))
        bucket.grant_read(handler, f"{FAILURE_PREFIX}*")
        bucket.grant_put(handler, f"{ARCHIVE_PREFIX}*")
        topic.grant_publish(handler)
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(handler),
            s3.NotificationKeyFilter(prefix=FAILURE_PREFIX),
        )

        alarm_action = cw_actions.SnsAction(topic)
        iterator_age = cloudwatch.Alarm(
            self, "ConsumerIteratorAgeAlarm",
            alarm_description="The consumer is falling behind its stream (a stuck shard or slow processing).",
            metric=consumer.metric("IteratorAge", statistic="Maximum", period=Duration.minutes(1)),
            threshold=settings.iterator_age_alarm_ms,
            evaluation_periods=5,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        delivery = cloudwatch.Alarm(
            self, "ConsumerDestinationDeliveryFailuresAlarm",
            alarm_description="Failed records could not be written to the failure bucket: they are lost (spec §7.3).",
            metric=consumer.metric("DestinationDeliveryFailures", statistic="Sum", period=Duration.minutes(1)),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (iterator_age, delivery):
            alarm.add_alarm_action(alarm_action)

        outputs = {
            "SourceTableName": source.table_name,
            "SourceTableStreamArn": source.table_stream_arn,
            "ProjectionTableName": projection.table_name,
            "FailureBucketName": bucket.bucket_name,
            "AlertTopicArn": topic.topic_arn,
            "ConsumerFunctionName": consumer.function_name,
            "FailureHandlerFunctionName": handler.function_name,
            "EventSourceMappingId": event_source.event_source_mapping_id,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)  # type: ignore[arg-type]

    @staticmethod
    def _auto_replay_environment(settings: PipelineSettings, consumer: lambda_.IFunction) -> dict[str, str]:
        if not settings.auto_replay:
            return {"AUTO_REPLAY": "off"}
        return {
            "AUTO_REPLAY": "consumer",
            "AUTO_REPLAY_FUNCTION": consumer.function_name,
            "AUTO_REPLAY_MAX_ATTEMPTS": str(settings.auto_replay_max_attempts),
            "AUTO_REPLAY_DELAY_SECONDS": str(settings.auto_replay_delay_seconds),
        }
