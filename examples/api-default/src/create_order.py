import json
import os
import uuid
from decimal import Decimal

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def lambda_handler(event, context):
    body = json.loads(event.get("body") or "{}", parse_float=Decimal)
    order = {
        "orderId": body.get("orderId") or str(uuid.uuid4()),
        "sku": body["sku"],
        "quantity": body["quantity"],
    }
    table.put_item(Item=order)
    return {"statusCode": 201, "body": json.dumps({"orderId": order["orderId"]})}
