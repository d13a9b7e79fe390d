"""The sample's order items: good ones, and poison ones its consumer must reject.

The sample consumer (lambdas/stream_consumer) validates orders; a poison record is an order that is
well-formed DynamoDB data but fails that validation (a negative amount), which is what poison
looks like in production. Scenario files build their `items` from these.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable


def order(i: int, *, poison: bool = False, run: str = "demo") -> dict[str, Any]:
    """Order number `i`; a poison order has a negative amount, which the consumer rejects."""
    return {
        "pk": f"order#{run}-{i:05d}",
        "orderId": f"{run}-{i:05d}",
        "amount": Decimal("-5") if poison else Decimal(10 + i % 90) + Decimal("0.99"),
        "currency": "EUR",
        "status": "NEW",
    }


def orders(count: int, poison: Iterable[int] = (), *, run: str = "demo") -> list[dict[str, Any]]:
    bad = set(poison)
    out_of_range = sorted(i for i in bad if not 0 <= i < count)
    if out_of_range:
        raise ValueError(f"poison indexes {out_of_range} are outside 0..{count - 1}")
    return [order(i, poison=i in bad, run=run) for i in range(count)]
