"""The fast GetRecords response is byte for byte moto's own (harness/backends/moto_streams.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import get_serializer_class
from moto.core.utils import get_service_model
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

from harness.backends import moto_streams
from harness.backends.moto_streams import FastRecordsResult, fast_body


def _context() -> ActionContext:
    service = get_service_model("dynamodbstreams")
    return ActionContext(service, service.operation_model("GetRecords"),
                         get_serializer_class("dynamodbstreams", "json"), DynamoDBStreamsHandler())


def _both(result: dict[str, Any]) -> tuple[Any, Any]:
    ctx = _context()
    return ActionResult(result).execute_result(ctx), FastRecordsResult(result).execute_result(ctx)


def _record(seq: int, image: dict[str, Any], *, event: str = "MODIFY", **extra: Any) -> dict[str, Any]:
    """A record as moto's StreamRecord holds it (its own key order, a naive UTC datetime, bytes for blobs)."""
    return {"eventID": f"id{seq}", "eventName": event, "eventSource": "aws:dynamodb", "eventVersion": "1.0",
            "awsRegion": "us-east-1",
            "dynamodb": {"StreamViewType": "NEW_AND_OLD_IMAGES",
                         "ApproximateCreationDateTime": dt.datetime(2026, 1, 2, 3, 4, 5, 678901),
                         "SequenceNumber": str(1100000000017454423009 + seq), "SizeBytes": 123,
                         "Keys": {"pk": image.get("pk", {"S": "k"})}, "NewImage": image, "OldImage": image},
            **extra}


ITEM = {"pk": {"S": "order#1"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\x01bin"}, "bs": {"BS": [b"x", b"\xff"]},
        "ss": {"SS": ["q", "r"]}, "ns": {"NS": ["1", "2.0"]}, "empty": {"S": ""}, "t": {"BOOL": True},
        "f": {"BOOL": False}, "null": {"NULL": True}, "u": {"S": "\u00e9\u2028\"<>&\\"},
        "m": {"M": {"x": {"L": [{"NULL": True}, {"BOOL": False}, {"B": b"zz"}, {"M": {}}, {"L": []}]}}}}


def test_every_attribute_type_and_event_kind_serializes_exactly_as_moto_does() -> None:
    records = [_record(0, ITEM, event="INSERT"), _record(1, ITEM), _record(2, {"pk": {"S": "a"}}, event="REMOVE"),
               _record(3, ITEM, userIdentity={"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"})]
    del records[0]["dynamodb"]["OldImage"]
    records[1]["dynamodb"]["ApproximateCreationDateTime"] = dt.datetime(2026, 1, 2, 3, 4, 5)  # no microseconds
    result = {"NextShardIterator": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x|1|abc", "Records": records}
    assert fast_body(result) is not None  # the fast path handled it, so the comparison below means something
    slow, fast = _both(result)
    assert fast == slow


def test_an_empty_page_and_a_page_without_next_iterator() -> None:
    for result in ({"NextShardIterator": "it", "Records": []}, {"Records": [_record(0, ITEM)]}):
        assert fast_body(result) is not None
        slow, fast = _both(result)
        assert fast == slow


@pytest.mark.parametrize("odd", [
    {"Records": [{**_record(0, ITEM), "extra": "x"}]},  # a key the shape does not name
    {"Records": [_record(0, {"pk": {"S": 5}})]},  # a value of the wrong type
    {"Records": [_record(0, {"pk": {"S": "a", "N": "1"}})]},  # two kinds in one attribute value
    {"Records": [_record(0, {"pk": {"Q": "a"}})]},  # an unknown kind
    {"Records": [_record(0, {"": {"NULL": True}})]},  # an empty name (moto's map serializer differs there)
    {"Records": [{**_record(0, ITEM), "dynamodb": {**_record(0, ITEM)["dynamodb"], "ApproximateCreationDateTime": 5}}]},
])
def test_anything_unexpected_goes_to_moto_s_serializer(odd: dict[str, Any]) -> None:
    assert fast_body(odd) is None
    ctx = _context()
    assert FastRecordsResult(odd).execute_result(ctx) == ActionResult(odd).execute_result(ctx)


_text = st.text(max_size=8)
_name = st.text(min_size=1, max_size=8)  # DynamoDB attribute names are never empty
_scalar = st.one_of(
    st.builds(lambda s: {"S": s}, _text),
    st.builds(lambda n: {"N": n}, st.from_regex(r"-?[0-9]{1,5}(\.[0-9]{1,3})?", fullmatch=True)),
    st.builds(lambda b: {"B": b}, st.binary(max_size=8)),
    st.builds(lambda v: {"SS": v}, st.lists(_text, min_size=1, max_size=3, unique=True)),
    st.builds(lambda v: {"NS": v}, st.lists(st.from_regex(r"[0-9]{1,4}", fullmatch=True), min_size=1, max_size=3,
                                            unique=True)),
    st.builds(lambda v: {"BS": v}, st.lists(st.binary(min_size=1, max_size=4), min_size=1, max_size=3, unique=True)),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
)
_attribute = st.recursive(_scalar, lambda inner: st.one_of(
    st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3)),
    st.builds(lambda v: {"M": v}, st.dictionaries(_name, inner, max_size=3))), max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_name, _attribute, min_size=1, max_size=5))
def test_generated_items_serialize_exactly_as_moto_does(image: dict[str, Any]) -> None:
    result = {"NextShardIterator": "it", "Records": [_record(0, image), _record(1, image, event="INSERT")]}
    assert fast_body(result) is not None
    slow, fast = _both(result)
    assert fast == slow


@pytest.fixture(scope="module")
def backend() -> Any:
    from harness.backends import get_backend

    with get_backend("embedded") as b:
        yield b


def test_the_embedded_backend_answers_get_records_through_the_fast_path(backend: Any) -> None:
    """Installed by EmbeddedBackend.start(); the page a boto3 client reads is the same either way."""
    assert DynamoDBStreamsHandler.get_records is moto_streams._fast_get_records
    backend.reset()
    ddb = backend.client("dynamodb")
    ddb.create_table(TableName="tbl", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    item = {k: v for k, v in ITEM.items()}
    ddb.put_item(TableName="tbl", Item=item)
    ddb.put_item(TableName="tbl", Item={**item, "n": {"N": "2"}})
    ddb.delete_item(TableName="tbl", Key={"pk": item["pk"]})
    streams = backend.client("dynamodbstreams")
    arn = ddb.describe_table(TableName="tbl")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def page() -> list[dict[str, Any]]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        return streams.get_records(ShardIterator=it["ShardIterator"])["Records"]

    fast = page()
    moto_streams.uninstall()
    try:
        slow = page()
    finally:
        moto_streams.install()
    assert [r["eventName"] for r in fast] == ["INSERT", "MODIFY", "REMOVE"]
    assert json.dumps(fast, default=str) == json.dumps(slow, default=str)
