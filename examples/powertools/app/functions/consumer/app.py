"""Orders consumer written with Powertools' BatchProcessor, as the blog post's readers would.

An order needs a positive `amount`; anything else is poison. Powertools reports each failed record
in `batchItemFailures` and raises when every record of a batch failed (its default).
"""

from decimal import Decimal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
logger = Logger()


def record_handler(record: DynamoDBRecord) -> None:
    if record.event_name == DynamoDBRecordEventName.REMOVE:
        logger.info("order removed", extra={"keys": record.dynamodb.keys})
        return
    image = record.dynamodb.new_image
    amount = image.get("amount")
    if amount is None or Decimal(str(amount)) <= 0:
        raise ValueError(f"order {image.get('PK')} has no positive amount: {amount!r}")
    logger.info("order accepted", extra={"order": image.get("PK")})


def handler(event: dict, context: object) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
