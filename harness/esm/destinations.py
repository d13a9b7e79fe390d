"""On-failure destinations (spec 3, 4): the envelope, the S3 key layout, and the senders.

SQS and SNS get the envelope only (AWS key order); S3 gets the envelope plus `payload`, the
original invocation event as a JSON *string*, with the object's keys sorted (spec 3.2, 3.5).
The batch-info key and its arrival-time precision come from the stream kind: DDBStreamBatchInfo
with whole seconds, KinesisBatchInfo with milliseconds (spec 10).
"""

from __future__ import annotations

import abc
import datetime as dt
import json
import threading
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.esm.errors import DestinationDeliveryError
from harness.esm.isotime import iso_millis
from harness.esm.records import Record
from harness.esm.sources.dynamodb_streams import DYNAMODB
from harness.esm.sources.kind import StreamKind

RETRY_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"


def build_envelope(*, request_id: str, function_arn: str, condition: str, approximate_invoke_count: int,
                   function_error: str | None, executed_version: str, timestamp: float, shard_id: str,
                   records: list[Record], stream_arn: str, kind: StreamKind = DYNAMODB) -> dict[str, Any]:
    """The failure record in AWS key order. RecordAgeExceeded has no responseContext (spec 3.3).
    `kind` names the batch-info key and formats the arrival times (spec 10)."""
    env: dict[str, Any] = {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": approximate_invoke_count,
        }
    }
    if condition != RECORD_AGE_EXCEEDED:
        env["responseContext"] = {"statusCode": 200, "executedVersion": executed_version, "functionError": function_error}
    env["version"] = "1.0"
    env["timestamp"] = iso_millis(timestamp)
    seq, arrival, iso = kind.seq, kind.arrival, kind.arrival_iso
    env[kind.batch_info_key] = {
        "shardId": shard_id,
        "startSequenceNumber": seq(records[0]),
        "endSequenceNumber": seq(records[-1]),
        "approximateArrivalOfFirstRecord": iso(arrival(records[0]) or 0),
        "approximateArrivalOfLastRecord": iso(arrival(records[-1]) or 0),
        "batchSize": len(records),
        "streamArn": stream_arn,
    }
    return env


def s3_key(esm_uuid: str, shard_id: str, timestamp_iso: str, random_uuid: str | None = None) -> str:
    """`aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid4>` from the envelope
    timestamp in UTC, truncated to seconds, no extension (spec 4)."""
    d = dt.datetime.strptime(timestamp_iso, "%Y-%m-%dT%H:%M:%S.%fZ")
    return (f"aws/lambda/{esm_uuid}/{shard_id}/{d:%Y/%m/%d}/{d:%Y-%m-%dT%H.%M.%S}-"
            f"{random_uuid or uuidlib.uuid4()}")


@dataclass
class FailureRecord:
    """One destination write: everything a sender needs, nothing backend-specific."""

    destination_arn: str
    esm_uuid: str
    shard_id: str
    envelope: dict[str, Any]
    records: list[Record]
    kind: StreamKind = DYNAMODB

    def sequence_numbers(self) -> list[str]:
        return self.kind.seqs(self.records)

    def s3_body(self) -> str:
        payload = json.dumps({"Records": self.records})
        return json.dumps({**self.envelope, "payload": payload}, sort_keys=True)

    def message_body(self) -> str:
        return json.dumps(self.envelope)


def destination_kind(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] not in ("s3", "sqs", "sns"):
        raise DestinationDeliveryError(f"destination {arn!r} is not an S3, SQS or SNS ARN")
    return parts[2]


@dataclass
class Delivery:
    """What a sender wrote: `key` is the S3 key, or the SQS/SNS message id."""

    destination_arn: str
    kind: str
    key: str
    body: str
    envelope: dict[str, Any]
    sequence_numbers: list[str] = field(default_factory=list)


class DestinationSender(abc.ABC):
    @abc.abstractmethod
    def deliver(self, failure: FailureRecord) -> Delivery:
        """Write the record; raise DestinationDeliveryError (naming the destination) on failure."""


def _check_standard(arn: str, kind: str) -> None:
    if kind in ("sqs", "sns") and arn.endswith(".fifo"):
        # spec 3.1: FIFO queues and topics cause delivery failures.
        raise DestinationDeliveryError(f"destination {arn}: FIFO {kind.upper()} is not supported for stream on-failure records")


class InMemoryDestinations(DestinationSender):
    """Keeps every delivery; `fail_arns` makes chosen destinations fail (spec 7.3 tests)."""

    def __init__(self, fail_arns: set[str] | None = None) -> None:
        self.deliveries: list[Delivery] = []
        self.fail_arns = set(fail_arns or ())
        self._lock = threading.Lock()

    def deliver(self, failure: FailureRecord) -> Delivery:
        arn = failure.destination_arn
        kind = destination_kind(arn)
        _check_standard(arn, kind)
        if arn in self.fail_arns:
            raise DestinationDeliveryError(f"destination {arn}: delivery refused (configured to fail)")
        if kind == "s3":
            key, body = s3_key(failure.esm_uuid, failure.shard_id, failure.envelope["timestamp"]), failure.s3_body()
        else:
            key, body = str(uuidlib.uuid4()), failure.message_body()
        d = Delivery(arn, kind, key, body, json.loads(body), failure.sequence_numbers())
        with self._lock:
            self.deliveries.append(d)
        return d


class Boto3Destinations(DestinationSender):
    """Writes through boto3 clients for whichever backend they point at."""

    def __init__(self, s3: Any = None, sqs: Any = None, sns: Any = None) -> None:
        self.s3, self.sqs, self.sns = s3, sqs, sns
        self._queue_urls: dict[str, str] = {}

    def _client(self, kind: str, arn: str) -> Any:
        client = getattr(self, kind)
        if client is None:
            raise DestinationDeliveryError(f"destination {arn}: no {kind} client was given to Boto3Destinations")
        return client

    def deliver(self, failure: FailureRecord) -> Delivery:
        arn = failure.destination_arn
        kind = destination_kind(arn)
        _check_standard(arn, kind)
        client = self._client(kind, arn)
        try:
            if kind == "s3":
                bucket = arn.split(":", 5)[5]
                key = s3_key(failure.esm_uuid, failure.shard_id, failure.envelope["timestamp"])
                body = failure.s3_body()
                client.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/json")
            elif kind == "sqs":
                body = failure.message_body()
                key = client.send_message(QueueUrl=self._queue_url(arn), MessageBody=body)["MessageId"]
            else:
                body = failure.message_body()
                key = client.publish(TopicArn=arn, Message=body)["MessageId"]
        except (ClientError, BotoCoreError) as exc:
            raise DestinationDeliveryError(f"destination {arn}: {exc}") from exc
        return Delivery(arn, kind, key, body, failure.envelope if kind != "s3" else json.loads(body),
                        failure.sequence_numbers())

    def _queue_url(self, arn: str) -> str:
        if arn not in self._queue_urls:
            _, _, _, _, account, name = arn.split(":", 5)
            self._queue_urls[arn] = self.sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        return self._queue_urls[arn]
