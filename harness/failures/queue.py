"""Reading ESM failure records from an SQS queue without taking them away (spec 3.4).

An SQS (or SNS) on-failure destination receives the envelope only: no payload, just the shard and
the sequence range of the failed records. The queue belongs to the team: its own consumer or its
operators drain it. Listing or replaying from it must leave every message where it was.

SQS has no "peek". The two ways to look without consuming:
- receive with `VisibilityTimeout=0`: the messages stay visible, but each receive samples the
  queue again, so a listing of more than one page cannot know it has seen every message (the
  same message comes back, others never do);
- receive with a short visibility timeout, so each message is returned once per listing, then
  set the visibility of every message read back to 0 straight away (ChangeMessageVisibilityBatch).
This module does the second: a complete listing, and the messages are visible again as soon as it
returns (also when it fails: the reset runs in a `finally`). Both ways count as a receive: on a
queue with a redrive policy, a message read more than `maxReceiveCount` times moves to the
dead-letter queue, so the listing says how close each message is (`receive_count`) and warns.

SNS keeps nothing for later readers: the harness subscribes a queue of its own to the topic when
it deploys (`subscribe_failure_inbox`), named from the topic (`failure_inbox_name`), and reads
failure records from it like from an SQS destination.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from botocore.exceptions import BotoCoreError, ClientError

from harness.failures.model import FailureRecordError, parse_failure_record
from harness.failures.store import FailureFilters, Listed, StoreError, selected

INBOX_PREFIX = "shardproof-failures-"
LISTING_VISIBILITY_S = 30  # long enough to page through a queue; reset to 0 right after
_EMPTY_RECEIVES = 2  # an empty short-poll receive may miss messages on AWS: ask again with a wait


def failure_inbox_name(topic_arn: str) -> str:
    """The harness's own queue on an SNS failure destination: stable, so a later command finds it."""
    name = topic_arn.rsplit(":", 1)[-1]
    digest = hashlib.sha256(topic_arn.encode()).hexdigest()[:8]
    return (INBOX_PREFIX + re.sub(r"[^A-Za-z0-9_-]", "-", name))[:71] + "-" + digest


def subscribe_failure_inbox(sqs: Any, sns: Any, topic_arn: str) -> str:
    """Create (or find) the harness's queue on `topic_arn` and subscribe it with raw delivery;
    returns the queue URL. Subscribing twice is harmless: SNS returns the same subscription."""
    url = sqs.create_queue(QueueName=failure_inbox_name(topic_arn),
                           Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return url


def queue_url_of(sqs: Any, queue: str) -> str:
    """A queue URL from a URL, an ARN or a name; StoreError naming the queue when it does not exist."""
    if queue.startswith(("http://", "https://")):
        return queue
    try:
        if queue.startswith("arn:"):
            _, _, _, _, account, name = queue.split(":", 5)
            return sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        return sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    except (ClientError, BotoCoreError, ValueError) as exc:
        raise StoreError(f"queue {queue!r} cannot be found: {exc}") from None


def unwrap_sns(body: str) -> str:
    """The failure record inside an SNS notification (a subscription without raw delivery wraps it)."""
    try:
        outer = json.loads(body)
    except ValueError:
        return body
    if isinstance(outer, dict) and outer.get("Type") == "Notification" and isinstance(outer.get("Message"), str):
        return outer["Message"]
    return body


@dataclass
class QueueListing:
    """What one non-consuming read of a queue found."""

    queue_url: str
    items: list[Listed]
    receive_counts: dict[str, int] = field(default_factory=dict)  # message id -> receives so far (this one included)
    in_flight: int = 0  # messages another reader holds invisible: not listed
    max_receive_count: int | None = None  # the queue's redrive policy, when it has one

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.in_flight:
            out.append(f"{self.in_flight} message(s) in {self.queue_url} are in flight (received by another reader "
                       "and invisible): not listed")
        if self.max_receive_count is not None:
            near = sorted(m for m, n in self.receive_counts.items() if n >= self.max_receive_count)
            out.append(f"{self.queue_url} has a redrive policy (maxReceiveCount {self.max_receive_count}): each listing "
                       "counts as a receive" + (f"; message(s) {', '.join(near)} will move to the dead-letter queue on "
                                                "their next receive" if near else ""))
        return out


class QueueFailureReader:
    """Failure records in one SQS queue (an SQS destination, or the harness's inbox on an SNS one)."""

    def __init__(self, sqs: Any, queue: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url_of(sqs, queue)

    def _call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self.sqs, operation)(QueueUrl=self.queue_url, **params)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"queue {self.queue_url}: {operation} failed: {exc}") from None

    def _attributes(self) -> dict[str, str]:
        return self._call("get_queue_attributes", AttributeNames=["All"]).get("Attributes", {})

    def peek(self) -> QueueListing:
        """Every visible message, left in the queue (visible again when this returns)."""
        attrs = self._attributes()
        expected = int(attrs.get("ApproximateNumberOfMessages", "0") or 0)
        redrive = attrs.get("RedrivePolicy")
        max_receives = None
        if redrive:
            try:
                max_receives = int(json.loads(redrive).get("maxReceiveCount"))
            except (ValueError, TypeError, AttributeError):
                max_receives = None
        seen: dict[str, dict[str, Any]] = {}
        handles: list[str] = []
        try:
            empty = 0
            while empty < _EMPTY_RECEIVES:
                wait = 0 if empty == 0 else 1
                msgs = self._call("receive_message", MaxNumberOfMessages=10, WaitTimeSeconds=wait,
                                  VisibilityTimeout=LISTING_VISIBILITY_S,
                                  AttributeNames=["SentTimestamp", "ApproximateReceiveCount"]).get("Messages", [])
                if not msgs:
                    if len(seen) >= expected:
                        break
                    empty += 1
                    continue
                for m in msgs:
                    handles.append(m["ReceiptHandle"])
                    seen.setdefault(m["MessageId"], m)
        finally:
            self._restore(handles)
        items = [self._listed(m) for m in seen.values()]
        items.sort(key=lambda item: (item.timestamp, item.key))
        return QueueListing(
            queue_url=self.queue_url, items=items,
            receive_counts={m["MessageId"]: int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                            for m in seen.values()},
            in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", "0") or 0),
            max_receive_count=max_receives)

    def _restore(self, handles: Iterable[str]) -> None:
        """Make every message read visible again at once, so the team's consumer sees it unchanged."""
        pending = list(handles)
        for start in range(0, len(pending), 10):
            chunk = pending[start:start + 10]
            self._call("change_message_visibility_batch", Entries=[
                {"Id": str(n), "ReceiptHandle": h, "VisibilityTimeout": 0} for n, h in enumerate(chunk)])

    def list(self, filters: FailureFilters | None = None) -> list[Listed]:
        """Failure records matching the filters (the `match` filter needs the records: see replay)."""
        filters = filters or FailureFilters()
        return [item for item in self.peek().items if selected(item, filters, by_records=False)]

    def get(self, message_id: str) -> Listed:
        for item in self.peek().items:
            if item.key == message_id:
                return item
        raise StoreError(f"queue {self.queue_url} holds no visible message {message_id!r} "
                         "(`shardproof failures list` shows the message ids)")

    @staticmethod
    def _listed(message: dict[str, Any]) -> Listed:
        body = unwrap_sns(message.get("Body", ""))
        sent_ms = int(message.get("Attributes", {}).get("SentTimestamp", "0") or 0)
        sent = datetime.fromtimestamp(sent_ms / 1000, timezone.utc)
        key = message["MessageId"]
        try:
            record = parse_failure_record(body)
        except FailureRecordError as exc:
            return Listed(key=key, last_modified=sent, size=len(body), error=str(exc))
        return Listed(key=key, last_modified=sent, size=len(body), record=record)


__all__ = ["INBOX_PREFIX", "QueueFailureReader", "QueueListing", "failure_inbox_name", "queue_url_of",
           "subscribe_failure_inbox", "unwrap_sns"]
