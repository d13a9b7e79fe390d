"""Order validation: every rejection names the field at fault."""

from __future__ import annotations

import pytest

from lambdas_testkit import load_lambda_module  # type: ignore[import-not-found]

orders = load_lambda_module("stream_consumer", "orders")


def image(**over: object) -> dict:
    base = {
        "pk": {"S": "order#0001"},
        "orderId": {"S": "0001"},
        "amount": {"N": "12.50"},
        "currency": {"S": "EUR"},
        "status": {"S": "NEW"},
    }
    for k, v in over.items():
        if v is None:
            base.pop(k, None)
        else:
            base[k] = v
    return base


def test_valid_order_parses() -> None:
    o = orders.parse_order(image(replayOf={"S": "aws/lambda/x"}))
    assert (o.pk, o.order_id, str(o.amount), o.currency, o.status) == ("order#0001", "0001", "12.50", "EUR", "NEW")
    assert o.replay_of == {"S": "aws/lambda/x"}


@pytest.mark.parametrize(
    "over, field",
    [
        ({"pk": None}, "pk"),
        ({"pk": {"S": "customer#1"}}, "pk"),
        ({"pk": {"N": "1"}}, "pk"),
        ({"orderId": None}, "orderId"),
        ({"orderId": {"S": "  "}}, "orderId"),
        ({"amount": {"N": "0"}}, "amount"),
        ({"amount": {"N": "-3"}}, "amount"),
        ({"amount": {"S": "12"}}, "amount"),
        ({"amount": {"N": "abc"}}, "amount"),
        ({"amount": {"N": "NaN"}}, "amount"),
        ({"currency": {"S": "eur"}}, "currency"),
        ({"currency": {"S": "EURO"}}, "currency"),
        ({"status": {"S": "LOST"}}, "status"),
        ({"status": None}, "status"),
        ({"replayOf": "plain"}, "replayOf"),
    ],
)
def test_invalid_orders_name_the_field(over: dict, field: str) -> None:
    with pytest.raises(orders.InvalidRecord) as err:
        orders.parse_order(image(**over))
    assert err.value.field == field
    assert repr(field) in str(err.value)


def test_missing_new_image_is_named() -> None:
    with pytest.raises(orders.InvalidRecord, match="NewImage"):
        orders.parse_order(None)


def test_sequence_order_sorts_like_integers() -> None:
    small, big = "999999999999999999999", "1000000000000000000000"  # 21 vs 22 digits
    assert small > big  # as strings, the wrong order...
    assert orders.sequence_order(small) < orders.sequence_order(big)  # ...fixed by padding
    assert len(orders.sequence_order("4" * 40)) == 40
    for bad in (None, "", "12a", "1" * 41, 5):
        with pytest.raises(orders.InvalidRecord, match="SequenceNumber"):
            orders.sequence_order(bad)
