import json


def ship(order):
    quantity = int(order["quantity"]["N"])
    if quantity <= 0:
        raise ValueError(f"order {order['orderId']['S']} has quantity {quantity}")
    print(json.dumps({"shipping": order["orderId"]["S"], "sku": order["sku"]["S"], "quantity": quantity}))


def lambda_handler(event, context):
    for record in event["Records"]:
        if record["eventName"] == "INSERT":
            ship(record["dynamodb"]["NewImage"])
