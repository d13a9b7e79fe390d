"""A failed Kinesis batch landed in S3: read it and alert through SNS, naming the object."""

import json
import os
from urllib.parse import unquote_plus

import boto3

s3 = boto3.client("s3")
sns = boto3.client("sns")


def handler(event: dict, context: object) -> None:
    for rec in event["Records"]:
        bucket, key = rec["s3"]["bucket"]["name"], unquote_plus(rec["s3"]["object"]["key"])
        failure = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        info = failure.get("KinesisBatchInfo") or {}
        sns.publish(TopicArn=os.environ["ALERT_TOPIC_ARN"], Message=json.dumps({
            "key": key, "condition": failure["requestContext"]["condition"], "shardId": info.get("shardId"),
            "records": info.get("batchSize"), "first": info.get("startSequenceNumber")}))
