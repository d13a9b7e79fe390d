"""Payment events from Kinesis: a payment needs a positive amount and a currency; anything else is poison.

`handle_raising` fails the whole batch on the first bad payment (bisect isolates it);
`handle_partial` reports bad payments in `batchItemFailures` (ReportBatchItemFailures).
"""

import base64
import json
import os


class BadPayment(ValueError):
    pass


def _payment(record: dict) -> dict:
    raw = base64.b64decode(record["kinesis"]["data"])
    try:
        payment = json.loads(raw)
    except ValueError:
        raise BadPayment(f"record {record['kinesis']['sequenceNumber']} is not JSON: {raw[:40]!r}") from None
    if not isinstance(payment, dict) or not payment.get("currency"):
        raise BadPayment(f"payment {payment!r} has no currency")
    if not isinstance(payment.get("amount"), (int, float)) or payment["amount"] <= 0:
        if os.environ.get("ACCEPT_REFUNDS") != "true":
            raise BadPayment(f"payment {payment.get('id')} has amount {payment.get('amount')!r}")
    return payment


def handle_raising(event: dict, context: object) -> None:
    for record in event["Records"]:
        payment = _payment(record)
        print(json.dumps({"settled": payment.get("id"), "partitionKey": record["kinesis"]["partitionKey"]}))


def handle_partial(event: dict, context: object) -> dict:
    failures = []
    for record in event["Records"]:
        try:
            payment = _payment(record)
        except BadPayment as exc:
            print(json.dumps({"rejected": record["kinesis"]["sequenceNumber"], "why": str(exc)}))
            failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
            continue
        print(json.dumps({"settled": payment.get("id")}))
    return {"batchItemFailures": failures}
