"""Items into a DynamoDB table and the stream read back: each record mapped to the item that wrote it."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from harness.journal import Journal
from harness.streams import StreamItemError
from harness.streams.dynamodb import DynamoDBWriter


def prepare(items, schema=("PK",)):
    return DynamoDBWriter(key_schema=schema).prepare(items, where="s.yaml")


def test_each_write_knows_the_stream_record_it_must_make_spec_6() -> None:
    writes = prepare([{"PK": "a", "v": 1}, {"PK": "a", "v": 2},
                      {"$update": {"PK": "a"}, "$set": {"w": "x"}, "$remove": ["v"]},
                      {"$delete": {"PK": "a"}}, {"$update": {"PK": "b"}, "$set": {"n": 1.25}}])
    assert [(w.op, w.event) for w in writes] == [("put", "INSERT"), ("put", "MODIFY"), ("update", "MODIFY"),
                                                 ("delete", "REMOVE"), ("update", "INSERT")]
    assert writes[4].set == {"n": Decimal("1.25")}  # a float from Python code becomes an exact Decimal


@pytest.mark.parametrize("items, message", [
    ([{"sk": "1"}], "items[0]: field 'PK': missing the table's key attribute (key schema: PK, sk)"),
    ([{"PK": "a"}], "items[0]: field 'sk': missing the table's key attribute"),
    ([{"PK": "a", "sk": True}], "items[0]: field 'sk': a key attribute must be a string, number or binary"),
    ([{"$delete": {"PK": "a", "sk": "1"}}], "items[0]: $delete of"),
    ([{"PK": "a", "sk": "1"}, {"PK": "a", "sk": "1"}], "items[1]: writes the item unchanged"),
    ([{"$update": {"PK": "a", "sk": "1"}, "$set": {"PK": "b"}}], "items[0]: field 'PK': an update cannot change a key"),
    ([{"$update": {"PK": "a", "sk": "1", "x": 1}, "$set": {"y": 1}}], "items[0].$update: field 'x' is not a key attribute"),
])
def test_an_item_the_table_cannot_take_is_named_before_any_deploy(items, message) -> None:
    with pytest.raises(StreamItemError) as err:
        prepare(items, schema=("PK", "sk"))
    assert message in str(err.value) and str(err.value).startswith("s.yaml: ")


def test_round_trip_on_the_embedded_backend_maps_every_record_to_its_item() -> None:
    from harness.backends.embedded import EmbeddedBackend

    backend = EmbeddedBackend()
    backend.start()
    try:
        ddb = backend.client("dynamodb")
        table = ddb.create_table(
            TableName="tbl", KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]
        pipe = SimpleNamespace(backend=backend, journal=Journal())
        writer = DynamoDBWriter(key_schema=["PK"])
        writer.bind(pipe, SimpleNamespace(stream_name="tbl", stream_arn=table["LatestStreamArn"]))
        writes = writer.prepare([{"PK": "a", "v": 1}, {"PK": "b"}, {"$update": {"PK": "a"}, "$set": {"v": 2}},
                                 {"$delete": {"PK": "b"}}], where="round-trip")
        writer.write(writes)
        stream = writer.read_back(writes)
        assert [(s.index, s.event) for s in stream] == [(0, "INSERT"), (1, "INSERT"), (2, "MODIFY"), (3, "REMOVE")]
        assert stream[2].record["dynamodb"]["NewImage"]["v"] == {"N": "2"}
        assert [e["index"] for e in pipe.journal.entries("injected")] == [0, 1, 2, 3]
    finally:
        backend.stop()
