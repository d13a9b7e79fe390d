"""The stream consumer against the embedded backend: idempotent projection, both failure modes."""

from __future__ import annotations

import json
import uuid

import pytest

from lambdas_testkit import load_lambda_module  # type: ignore[import-not-found]

app = load_lambda_module("stream_consumer", "app")
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-06-10T19:26:16.525"


def order_image(n: int, **over: object) -> dict:
    img = {
        "pk": {"S": f"order#{n:04d}"},
        "orderId": {"S": f"{n:04d}"},
        "amount": {"N": "10.5"},
        "currency": {"S": "EUR"},
        "status": {"S": "NEW"},
    }
    img.update(over)  # type: ignore[arg-type]
    return img


def record(seq: str | int, name: str = "INSERT", image: dict | None = None, pk: str | None = None) -> dict:
    seq = str(seq)
    ddb: dict = {"ApproximateCreationDateTime": 1479499740, "SequenceNumber": seq, "SizeBytes": 26,
                 "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if image is not None:
        ddb["NewImage"] = image
        ddb["Keys"] = {"pk": image.get("pk")}
    if pk is not None:
        ddb["Keys"] = {"pk": {"S": pk}}
    return {"eventID": uuid.uuid4().hex, "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "dynamodb": ddb, "eventSourceARN": ARN}


@pytest.fixture()
def table(aws_env, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    name = f"projection-{uuid.uuid4().hex[:8]}"
    aws_env.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    monkeypatch.setenv("PROJECTION_TABLE", name)
    monkeypatch.delenv("REPORT_BATCH_ITEM_FAILURES", raising=False)
    return name


def get(backend, table: str, n: int) -> dict | None:  # type: ignore[no-untyped-def]
    return backend.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": f"order#{n:04d}"}}, ConsistentRead=True).get("Item")


SEQ = 100000000000000000000  # 21 digits, like a real stream


def test_insert_projects_and_redelivery_is_a_no_op(aws_env, table, capsys) -> None:  # type: ignore[no-untyped-def]
    batch = {"Records": [record(SEQ + 1, image=order_image(1)), record(SEQ + 2, "MODIFY", order_image(1, status={"S": "PAID"}))]}
    assert app.handler(batch) is None
    item = get(aws_env, table, 1)
    assert item["status"] == {"S": "PAID"} and item["lastSequenceNumber"] == {"S": str(SEQ + 2)}
    assert item["amount"] == {"N": "10.5"} and item["lastEventName"] == {"S": "MODIFY"}
    capsys.readouterr()
    # Redelivering the whole batch (a retry after a later failure) must not roll PAID back to NEW.
    app.handler(batch)
    assert get(aws_env, table, 1) == item
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(entry["outcome"], entry["sequenceNumber"]) for entry in lines] == [("stale", str(SEQ + 1)), ("stale", str(SEQ + 2))]


def test_sequence_numbers_compare_as_integers(aws_env, table) -> None:  # type: ignore[no-untyped-def]
    later = "1000000000000000000000"  # 22 digits: string-wise smaller than the 21-digit one
    earlier = "999999999999999999999"
    app.handler({"Records": [record(later, "MODIFY", order_image(2, status={"S": "SHIPPED"}))]})
    app.handler({"Records": [record(earlier, "MODIFY", order_image(2, status={"S": "PAID"}))]})
    assert get(aws_env, table, 2)["status"] == {"S": "SHIPPED"}


def test_remove_deletes_idempotently_and_stale_remove_is_ignored(aws_env, table) -> None:  # type: ignore[no-untyped-def]
    app.handler({"Records": [record(SEQ + 10, image=order_image(3)), record(SEQ + 11, "REMOVE", pk="order#0003")]})
    assert get(aws_env, table, 3) is None
    app.handler({"Records": [record(SEQ + 11, "REMOVE", pk="order#0003")]})  # redelivered: no error
    assert get(aws_env, table, 3) is None
    app.handler({"Records": [record(SEQ + 20, image=order_image(3))]})
    app.handler({"Records": [record(SEQ + 11, "REMOVE", pk="order#0003")]})  # older than the re-insert
    assert get(aws_env, table, 3)["lastSequenceNumber"] == {"S": str(SEQ + 20)}


def test_replay_marker_passes_through(aws_env, table) -> None:  # type: ignore[no-untyped-def]
    marker = {"S": "aws/lambda/uuid/shard/2025/01/01/x"}
    app.handler({"Records": [record(SEQ + 30, image=order_image(4, replayOf=marker))]})
    assert get(aws_env, table, 4)["replayOf"] == marker


def test_default_mode_raises_naming_sequence_and_field(aws_env, table) -> None:  # type: ignore[no-untyped-def]
    batch = {"Records": [record(SEQ + 40, image=order_image(5)),
                         record(SEQ + 41, image=order_image(6, amount={"N": "-1"})),
                         record(SEQ + 42, image=order_image(7))]}
    with pytest.raises(app.PoisonRecordError) as err:
        app.handler(batch)
    assert str(SEQ + 41) in str(err.value) and "'amount'" in str(err.value)
    assert get(aws_env, table, 5) is not None  # records before the poison were applied (idempotently)
    assert get(aws_env, table, 7) is None  # the rest waits for the retry


def test_partial_mode_reports_poison_and_processes_the_rest(aws_env, table, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REPORT_BATCH_ITEM_FAILURES", "true")
    batch = {"Records": [record(SEQ + 50, image=order_image(8)),
                         record(SEQ + 51, image=order_image(9, currency={"S": "euro"})),
                         record(SEQ + 52, "MODIFY", order_image(10, status={"S": "LOST"})),
                         record(SEQ + 53, image=order_image(11))]}
    result = app.handler(batch)
    assert result == {"batchItemFailures": [{"itemIdentifier": str(SEQ + 51)}, {"itemIdentifier": str(SEQ + 52)}]}
    assert get(aws_env, table, 8) is not None and get(aws_env, table, 11) is not None
    assert get(aws_env, table, 9) is None and get(aws_env, table, 10) is None
    outcomes = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["outcome"] for o in outcomes] == ["projected", "poison", "poison", "projected"]
    assert outcomes[1]["field"] == "currency" and outcomes[2]["field"] == "status"
    assert app.handler({"Records": [record(SEQ + 54, image=order_image(12))]}) == {"batchItemFailures": []}


def test_write_failures_are_reported_or_raised(aws_env, table, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PROJECTION_TABLE", "no-such-table")
    batch = {"Records": [record(SEQ + 60, image=order_image(13)), record(SEQ + 61, image=order_image(14))]}
    with pytest.raises(Exception, match="ResourceNotFound|not found|Requested resource"):
        app.handler(batch)
    monkeypatch.setenv("REPORT_BATCH_ITEM_FAILURES", "TRUE")
    assert app.handler(batch) == {"batchItemFailures": [{"itemIdentifier": str(SEQ + 60)}, {"itemIdentifier": str(SEQ + 61)}]}


def test_record_without_sequence_number_fails_the_batch_even_in_partial_mode(aws_env, table, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REPORT_BATCH_ITEM_FAILURES", "true")
    bad = record(SEQ + 70, image=order_image(15))
    del bad["dynamodb"]["SequenceNumber"]
    with pytest.raises(app.PoisonRecordError, match="SequenceNumber"):
        app.handler({"Records": [bad]})


def test_configuration_errors_name_the_variable(aws_env, table, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REPORT_BATCH_ITEM_FAILURES", "maybe")
    with pytest.raises(app.ConfigError, match="REPORT_BATCH_ITEM_FAILURES"):
        app.handler({"Records": []})
    monkeypatch.delenv("PROJECTION_TABLE")
    with pytest.raises(app.ConfigError, match="PROJECTION_TABLE"):
        app.handler({"Records": []})
    monkeypatch.setenv("PROJECTION_TABLE", table)
    monkeypatch.delenv("REPORT_BATCH_ITEM_FAILURES")
    with pytest.raises(ValueError, match="Records"):
        app.handler({"foo": 1})
