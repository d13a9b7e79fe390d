"""Reacts to a failed batch written to S3 by the event source mapping: reads it, alerts through SNS."""

import json
import os

import boto3

s3 = boto3.client("s3")
sns = boto3.client("sns")


def handler(event: dict, context: object) -> dict:
    alerted = []
    for rec in event.get("Records", []):
        bucket, key = rec["s3"]["bucket"]["name"], rec["s3"]["object"]["key"]
        body = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        info = body.get("DDBStreamBatchInfo") or body.get("KinesisBatchInfo") or {}
        message = {"key": key, "condition": body["requestContext"]["condition"], "batchSize": info.get("batchSize"),
                   "approximateInvokeCount": body["requestContext"]["approximateInvokeCount"]}
        sns.publish(TopicArn=os.environ["ALERT_TOPIC_ARN"], Subject="orders: failed stream batch",
                    Message=json.dumps(message))
        alerted.append(key)
    return {"alerted": alerted}
