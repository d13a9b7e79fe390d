"""A tiny CDK app shaped like infra/: synthesized to capture `template.json`, the applier's fixture.

Regenerate (from the repo root): .venv/bin/python tests/unit/deploy/cdk_app/regenerate.py
(Kept so the fixture is reproducible; the tests read the checked-in JSON because synth costs ~10 s.)
"""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import (
    aws_cloudwatch as cw,
    aws_dynamodb as ddb,
    aws_lambda as lambda_,
    aws_lambda_event_sources as sources,
    aws_s3 as s3,
    aws_s3_notifications as s3n,
    aws_sns as sns,
)

HERE = Path(__file__).parent

# The CLI sets enable-asset-metadata; a bare `python app.py` must ask for it, or no aws:asset:path.
app = cdk.App(analytics_reporting=False, context={"aws:cdk:enable-asset-metadata": True})
stack = cdk.Stack(app, "Fixture")
table = ddb.Table(
    stack, "Source",
    partition_key=ddb.Attribute(name="pk", type=ddb.AttributeType.STRING),
    billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
    stream=ddb.StreamViewType.NEW_AND_OLD_IMAGES,
    removal_policy=cdk.RemovalPolicy.DESTROY,
)
bucket = s3.Bucket(
    stack, "Failures",
    block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    encryption=s3.BucketEncryption.S3_MANAGED,
    enforce_ssl=True,
    lifecycle_rules=[s3.LifecycleRule(prefix="archive/", expiration=cdk.Duration.days(400)),
                     s3.LifecycleRule(abort_incomplete_multipart_upload_after=cdk.Duration.days(7))],
)
topic = sns.Topic(stack, "Alerts", enforce_ssl=True)
consumer = lambda_.Function(
    stack, "Consumer",
    runtime=lambda_.Runtime.PYTHON_3_11,
    handler="app.handler",
    code=lambda_.Code.from_asset(str(HERE / "lambda_code")),
    environment={"TABLE": table.table_name, "TOPIC": topic.topic_arn},
    timeout=cdk.Duration.seconds(5),
)
source = sources.DynamoEventSource(
    table,
    starting_position=lambda_.StartingPosition.TRIM_HORIZON,
    batch_size=10,
    retry_attempts=2,
    bisect_batch_on_error=True,
    max_record_age=cdk.Duration.seconds(3600),
    report_batch_item_failures=True,
    on_failure=sources.S3OnFailureDestination(bucket),
)
consumer.add_event_source(source)
handler = lambda_.Function(
    stack, "FailureHandler",
    runtime=lambda_.Runtime.PYTHON_3_11,
    handler="app.handler",
    code=lambda_.Code.from_asset(str(HERE / "lambda_code")),
    environment={"TOPIC": topic.topic_arn},
)
topic.grant_publish(handler)
bucket.grant_read_write(handler)
bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(handler),
                              s3.NotificationKeyFilter(prefix="aws/lambda/"))
cw.Alarm(stack, "IteratorAge", metric=consumer.metric("IteratorAge"), threshold=60000, evaluation_periods=1)
cdk.CfnOutput(stack, "SourceTableName", value=table.table_name)
cdk.CfnOutput(stack, "SourceTableStreamArn", value=table.table_stream_arn)
cdk.CfnOutput(stack, "FailureBucketName", value=bucket.bucket_name)
cdk.CfnOutput(stack, "AlertTopicArn", value=topic.topic_arn)
cdk.CfnOutput(stack, "ConsumerFunctionName", value=consumer.function_name)
cdk.CfnOutput(stack, "EventSourceMappingId", value=source.event_source_mapping_id)
cdk.CfnOutput(stack, "Region", value=cdk.Fn.sub("${AWS::Region}-${AWS::AccountId}"))
app.synth()
