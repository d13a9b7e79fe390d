"""Against a real LocalStack: it is up, it is what docker-compose.yml pins, and it stores data."""

from __future__ import annotations

import uuid

import pytest

from harness.backends.localstack import REQUIRED_SERVICES

pytestmark = pytest.mark.docker


def test_health_reports_every_required_service_ready(localstack) -> None:
    assert localstack.healthy()
    caps = localstack.capabilities()
    for name in REQUIRED_SERVICES:
        assert caps.services.get(name) in ("available", "running"), (name, caps.services.get(name))


def test_capabilities_name_version_and_edition(localstack) -> None:
    caps = localstack.capabilities()
    assert caps.version and caps.version != "unknown"
    assert caps.edition in ("community", "pro", "enterprise", "base", "ultimate", "hobby"), caps.edition
    assert localstack.describe().details["capabilities"]["version"] == caps.version


def test_dynamodb_table_with_stream_round_trip(localstack) -> None:
    ddb = localstack.client("dynamodb")
    name = f"health-{uuid.uuid4().hex[:8]}"
    desc = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    try:
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
        streams = localstack.client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=desc["LatestStreamArn"])["StreamDescription"]["Shards"]
        iterator = streams.get_shard_iterator(
            StreamArn=desc["LatestStreamArn"], ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["a"]
    finally:
        ddb.delete_table(TableName=name)


def test_sts_identity_is_localstack_default_account(localstack) -> None:
    assert localstack.client("sts").get_caller_identity()["Account"] == localstack.account_id
