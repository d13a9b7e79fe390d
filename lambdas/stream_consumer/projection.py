"""Idempotent writes of the order projection.

Delivery from a stream event source mapping is at-least-once and a failed batch is retried
from its first failed record, so every write here is conditional on the stream sequence
number: a redelivered or stale record becomes a no-op instead of rolling state back.
"""

from __future__ import annotations

from typing import Any

from orders import Order

STALE_CONDITION = "attribute_not_exists(pk) OR sequenceOrder < :seq"


def _is_conditional_failure(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def put_order(client: Any, table: str, order: Order, sequence_number: str, seq_order: str, event_name: str) -> bool:
    """Write the projection; False when the stored item already reflects this or a later record."""
    item: dict[str, Any] = {
        "pk": {"S": order.pk},
        "orderId": {"S": order.order_id},
        "amount": {"N": str(order.amount)},
        "currency": {"S": order.currency},
        "status": {"S": order.status},
        "lastSequenceNumber": {"S": sequence_number},
        "sequenceOrder": {"S": seq_order},
        "lastEventName": {"S": event_name},
    }
    if order.replay_of is not None:
        item["replayOf"] = dict(order.replay_of)
    try:
        client.put_item(
            TableName=table,
            Item=item,
            ConditionExpression=STALE_CONDITION,
            ExpressionAttributeValues={":seq": {"S": seq_order}},
        )
    except Exception as exc:  # botocore ClientError; the consumer must not need botocore imports to run tests
        if _is_conditional_failure(exc):
            return False
        raise
    return True


def delete_order(client: Any, table: str, pk: str, seq_order: str) -> bool:
    """Delete the projection; False when it is already gone or newer than this REMOVE."""
    try:
        response = client.delete_item(
            TableName=table,
            Key={"pk": {"S": pk}},
            ConditionExpression="attribute_exists(pk) AND sequenceOrder < :seq",
            ExpressionAttributeValues={":seq": {"S": seq_order}},
            ReturnValues="ALL_OLD",
        )
    except Exception as exc:
        if _is_conditional_failure(exc):
            return False
        raise
    return bool(response.get("Attributes"))
