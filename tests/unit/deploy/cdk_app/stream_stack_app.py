"""A CDK app shaped like the AWS blog post's stream stack (TableV2, an SSE-KMS failure bucket, a
layer, a mapping on an alias, EventBridge/SNS/SES alerts, SSM, Kinesis, a dashboard), synthesized
to capture the applier's `stream_stack` fixture.

Regenerate (from the repo root): .venv/bin/python tests/unit/deploy/cdk_app/regenerate.py
"""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import (
    aws_cloudwatch as cw,
    aws_dynamodb as ddb,
    aws_events as events,
    aws_events_targets as targets,
    aws_kinesis as kinesis,
    aws_kms as kms,
    aws_lambda as lambda_,
    aws_lambda_event_sources as sources,
    aws_s3 as s3,
    aws_ses as ses,
    aws_sns as sns,
    aws_sqs as sqs,
    aws_ssm as ssm,
)

HERE = Path(__file__).parent

app = cdk.App(analytics_reporting=False, context={"aws:cdk:enable-asset-metadata": True})
stack = cdk.Stack(app, "StreamStack")
table = ddb.TableV2(
    stack, "Orders",
    partition_key=ddb.Attribute(name="pk", type=ddb.AttributeType.STRING),
    sort_key=ddb.Attribute(name="sk", type=ddb.AttributeType.STRING),
    dynamo_stream=ddb.StreamViewType.NEW_AND_OLD_IMAGES,
    time_to_live_attribute="ttl",
    global_secondary_indexes=[ddb.GlobalSecondaryIndexPropsV2(
        index_name="byStatus", partition_key=ddb.Attribute(name="status", type=ddb.AttributeType.STRING))],
    removal_policy=cdk.RemovalPolicy.DESTROY,
)
key = kms.Key(stack, "FailureKey", enable_key_rotation=True, alias="alias/stream-failures",
              removal_policy=cdk.RemovalPolicy.DESTROY)
bucket = s3.Bucket(stack, "Failures", encryption=s3.BucketEncryption.KMS, encryption_key=key, enforce_ssl=True,
                   block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
layer = lambda_.LayerVersion(stack, "Alerting", code=lambda_.Code.from_asset(str(HERE / "layer_code")),
                             compatible_runtimes=[lambda_.Runtime.PYTHON_3_11])
consumer = lambda_.Function(stack, "Consumer", runtime=lambda_.Runtime.PYTHON_3_11, handler="app.handler",
                            code=lambda_.Code.from_asset(str(HERE / "lambda_code")), layers=[layer],
                            environment={"TABLE": table.table_name})
live = lambda_.Alias(stack, "Live", alias_name="live", version=consumer.current_version)
live.add_event_source(sources.DynamoEventSource(
    table, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=10, retry_attempts=2,
    bisect_batch_on_error=True, on_failure=sources.S3OnFailureDestination(bucket)))
alerts_queue = sqs.Queue(stack, "AlertQueue")
topic = sns.Topic(stack, "AlertTopic")
bus = events.EventBus(stack, "Alerts")
handler = lambda_.Function(stack, "FailureHandler", runtime=lambda_.Runtime.PYTHON_3_11, handler="app.handler",
                           code=lambda_.Code.from_asset(str(HERE / "lambda_code")), layers=[layer],
                           environment={"BUS": bus.event_bus_name})
bus.grant_put_events_to(handler)
rule = events.Rule(stack, "FailureRule", event_bus=bus, event_pattern=events.EventPattern(source=["stream.failures"]),
                   targets=[targets.SqsQueue(alerts_queue), targets.SnsTopic(topic), targets.LambdaFunction(handler)])
bus.archive("Archive", event_pattern=events.EventPattern(source=["stream.failures"]))
ses.EmailIdentity(stack, "Sender", identity=ses.Identity.email("alerts@example.com"))
ssm.StringParameter(stack, "AlertTopicParameter", string_value=topic.topic_arn)
stream = kinesis.Stream(stack, "Clicks", shard_count=1)
kinesis.StreamConsumer(stack, "ClicksConsumer", stream=stream, stream_consumer_name="clicks-efo")
dashboard = cw.Dashboard(stack, "Dashboard", widgets=[[cw.GraphWidget(left=[consumer.metric_errors()])]])
cdk.CfnOutput(stack, "TableName", value=table.table_name)
cdk.CfnOutput(stack, "TableStreamArn", value=table.table_stream_arn)
cdk.CfnOutput(stack, "FailureBucketName", value=bucket.bucket_name)
cdk.CfnOutput(stack, "LiveAliasArn", value=live.function_arn)
cdk.CfnOutput(stack, "BusName", value=bus.event_bus_name)
cdk.CfnOutput(stack, "AlertQueueUrl", value=alerts_queue.queue_url)
cdk.CfnOutput(stack, "DashboardName", value=dashboard.dashboard_name)
app.synth()
