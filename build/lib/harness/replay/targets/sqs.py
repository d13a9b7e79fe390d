"""Target (c): send each record to an SQS queue, body = the record JSON.

For a FIFO queue, MessageGroupId is the item key, so SQS keeps each item's changes in order,
and MessageDeduplicationId is derived from the record id, so a re-send within SQS's 5-minute
window is dropped by SQS itself. A chunk never holds two records of one item: a batch entry can
fail while a later one succeeds, which would otherwise reorder that item's changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.replay.plan import PlannedRecord
from harness.replay.targets.base import Outcome, TargetError, Verdict

_GROUP_OK = re.compile(r"^[\x21-\x7e]{1,128}$")  # SQS: alphanumerics and punctuation, up to 128


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class SqsTarget:
    """Sends records to `queue_url`, one message per record."""

    max_chunk = 10
    distinct_keys = True
    same_object = False

    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        if not queue_url:
            raise ValueError("queue_url: the queue to send replayed records to is required")
        self.sqs = sqs_client
        self.queue_url = queue_url
        self.queue_name = queue_url.rstrip("/").rsplit("/", 1)[-1]
        self.fifo = self.queue_name.endswith(".fifo")
        self.target_id = f"sqs/{self.queue_name}"

    def prepare(self) -> None:
        try:
            attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["FifoQueue"])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise TargetError(f"queue {self.queue_url!r}: GetQueueAttributes failed: {code}") from None
        except BotoCoreError as exc:
            raise TargetError(f"queue {self.queue_url!r}: GetQueueAttributes failed: {exc}") from None
        self.fifo = attrs.get("Attributes", {}).get("FifoQueue") == "true"

    def check(self, record: PlannedRecord) -> Verdict | None:
        return None

    def group_id(self, record: PlannedRecord) -> str:
        key = record.item_key
        return key if _GROUP_OK.match(key) else _digest(key)

    def describe(self, record: PlannedRecord) -> str:
        group = f" group {self.group_id(record)}" if self.fifo else ""
        return f"SendMessage {self.queue_name}{group}: {record.event_name} seq {record.seq}"

    def send(self, chunk: list[PlannedRecord]) -> list[Outcome]:
        entries = []
        for i, p in enumerate(chunk):
            entry: dict[str, Any] = {"Id": f"r{i}", "MessageBody": json.dumps(p.record)}
            if self.fifo:
                entry["MessageGroupId"] = self.group_id(p)
                entry["MessageDeduplicationId"] = _digest(p.id)[:128]
            entries.append(entry)
        try:
            resp = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            reason = f"SendMessageBatch to {self.queue_name} failed: {err.get('Code')} {err.get('Message', '')}"
            return [Outcome(p, False, reason) for p in chunk]
        except BotoCoreError as exc:
            return [Outcome(p, False, f"SendMessageBatch to {self.queue_name} failed: {exc}") for p in chunk]
        failed = {f["Id"]: f"{f.get('Code')}: {f.get('Message', '')}" for f in resp.get("Failed", [])}
        sent = {s["Id"]: s.get("MessageId", "") for s in resp.get("Successful", [])}
        out = []
        for i, p in enumerate(chunk):
            rid = f"r{i}"
            if rid in sent:
                out.append(Outcome(p, True, f"sent to {self.queue_name} as {sent[rid]}"))
            else:
                out.append(Outcome(p, False, f"SQS refused the message: {failed.get(rid, 'no result for entry')}"))
        return out


__all__ = ["SqsTarget"]
