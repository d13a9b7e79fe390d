#!/usr/bin/env python3
"""An orders stream written the way the AWS blog post writes it, in Python CDK: not this repository's sample.

TableV2 keyed on `PK`, a Powertools `BatchProcessor` consumer (partial batch responses, its
dependencies in a requirements.txt), `StartingPosition: LATEST`, bisect, an S3 on-failure
destination encrypted with a KMS key and guarded by `s3:ResourceAccount`, and a failure handler on
ObjectCreated that alerts through SNS. Context `reportBatchItemFailures=false` deploys the mapping
without ReportBatchItemFailures (the misconfiguration the harness must catch).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from constructs import Construct


class OrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, report_batch_item_failures: bool, **kw: object) -> None:
        super().__init__(scope, construct_id, **kw)
        orders = dynamodb.TableV2(
            self, "Orders",
            partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            removal_policy=RemovalPolicy.DESTROY,
        )
        key = kms.Key(self, "FailureKey", enable_key_rotation=True, removal_policy=RemovalPolicy.DESTROY)
        failures = s3.Bucket(
            self, "Failures",
            encryption=s3.BucketEncryption.KMS, encryption_key=key,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        alerts = sns.Topic(self, "Alerts")

        consumer = lambda_.Function(
            self, "OrdersConsumer",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="app.handler",
            code=lambda_.Code.from_asset("functions/consumer"),
            timeout=Duration.seconds(30),
            environment={"POWERTOOLS_SERVICE_NAME": "orders"},
        )
        orders.grant_stream_read(consumer)
        # The post's advice: the ESM writes failed batches with the function's role; guard the bucket
        # by account so a deleted and re-created bucket elsewhere never receives them.
        consumer.add_to_role_policy(iam.PolicyStatement(
            actions=["s3:PutObject", "s3:ListBucket"],
            resources=[failures.bucket_arn, failures.arn_for_objects("*")],
            conditions={"StringEquals": {"s3:ResourceAccount": Aws.ACCOUNT_ID}},
        ))
        key.grant_encrypt(consumer)
        consumer.add_event_source(sources.DynamoEventSource(
            orders,
            starting_position=lambda_.StartingPosition.LATEST,
            batch_size=10,
            retry_attempts=2,
            bisect_batch_on_error=True,
            report_batch_item_failures=report_batch_item_failures,
            on_failure=GuardedS3Destination(failures),
        ))

        handler = lambda_.Function(
            self, "FailureHandler",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="app.handler",
            code=lambda_.Code.from_asset("functions/failure_handler"),
            timeout=Duration.seconds(30),
            environment={"ALERT_TOPIC_ARN": alerts.topic_arn},
        )
        failures.grant_read(handler, "aws/lambda/*")
        alerts.grant_publish(handler)
        failures.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(handler),
                                        s3.NotificationKeyFilter(prefix="aws/lambda/"))


class GuardedS3Destination(sources.S3OnFailureDestination):
    """S3OnFailureDestination without the unconditioned grantReadWrite its bind adds (the policy above grants)."""

    def __init__(self, bucket: s3.IBucket) -> None:
        super().__init__(bucket)
        self._bucket = bucket

    def bind(self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction) -> lambda_.DlqDestinationConfig:
        return lambda_.DlqDestinationConfig(destination=self._bucket.bucket_arn)


app = cdk.App()
setting = app.node.try_get_context("reportBatchItemFailures")
rbif = setting is None or str(setting).lower() != "false"
OrdersStack(app, "PowertoolsOrders", report_batch_item_failures=rbif)
app.synth()
