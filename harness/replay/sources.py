"""Where a replay reads failure records from: an S3 bucket (`FailureStore`), or a queue.

The Replayer needs three things of a source: the failure records with their stream records
(`list`), a ledger per target, and a way to mark a failure record fully replayed. An S3 bucket
carries the records in each object and keeps ledger and tags beside them. A queue (an SQS
destination, or the harness's own queue on an SNS destination) carries envelopes only: the
records are read back from the stream (stream_records.py), the ledger is a local file, and
nothing is written to the team's queue (its messages are never consumed, deleted or changed).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Callable

from harness.failures.queue import QueueFailureReader
from harness.failures.store import FailureFilters, FailureStore, Listed, StoreError, selected
from harness.replay.ledger import FileLedger, S3Ledger
from harness.replay.stream_records import with_records


class QueueSource:
    """Failure records from an SQS queue, with their records read back from the stream."""

    def __init__(self, reader: QueueFailureReader, client_for: Callable[[str], Any], *, ledger_dir: Path,
                 now: Callable[[], float] = time.time) -> None:
        self.reader = reader
        self.client_for = client_for
        self.ledger_dir = ledger_dir
        self.now = now
        self.warnings: list[str] = []

    @property
    def label(self) -> str:
        return f"queue {self.reader.queue_url}"

    def list(self, filters: FailureFilters | None = None) -> list[Listed]:
        filters = filters or FailureFilters()
        listing = self.reader.peek()
        self.warnings = listing.warnings
        out = []
        for item in listing.items:
            if not selected(item, filters, by_records=False):
                continue
            item = with_records(item, self.client_for, now=self.now())
            if item.unavailable is None and not selected(item, filters):
                continue  # `match` can only be decided once the records are read
            out.append(item)
        return out

    def get(self, message_id: str) -> Listed:
        return with_records(self.reader.get(message_id), self.client_for, now=self.now())

    def ledger(self, target_id: str) -> FileLedger:
        queue = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.reader.queue_url.rstrip("/").rsplit("/", 1)[-1])
        target = re.sub(r"[^A-Za-z0-9_.-]+", "_", target_id)
        return FileLedger(self.ledger_dir / queue / f"{target}.jsonl", target_id)

    def mark_replayed(self, key: str, stamp: str) -> None:
        """Nothing to do: the message stays in the team's queue as it was (the ledger remembers)."""


def source_for_destination(arn: str, client: Callable[[str], Any], *, ledger_dir: Path,
                           now: Callable[[], float] | None = None) -> Any:
    """The failure-record source of an on-failure destination ARN: a bucket, a queue, or the harness's
    own queue on a topic (subscribed when the stack was deployed). `client(service)` makes boto3 clients."""
    from harness.failures.queue import failure_inbox_name

    parts = arn.split(":", 5)
    service = parts[2] if len(parts) == 6 else ""
    if service == "s3":
        return FailureStore(client("s3"), parts[5])
    if service == "sqs":
        return QueueSource(QueueFailureReader(client("sqs"), arn), client, ledger_dir=ledger_dir,
                           now=now or time.time)
    if service == "sns":
        try:
            reader = QueueFailureReader(client("sqs"), failure_inbox_name(arn))
        except StoreError:
            raise StoreError(f"SNS on-failure destination {arn}: no queue {failure_inbox_name(arn)} is subscribed to "
                             "it; the harness subscribes one when it deploys the stack (SNS keeps nothing for later "
                             "readers), so this stack was deployed some other way") from None
        return QueueSource(reader, client, ledger_dir=ledger_dir, now=now or time.time)
    raise ValueError(f"on-failure destination {arn!r} is not an S3 bucket, SQS queue or SNS topic ARN")


def ledger_for(source: Any, target_id: str) -> Any:
    """The ledger of `target_id` in `source`: in the bucket for S3, the source's own otherwise."""
    if isinstance(source, FailureStore):
        return S3Ledger(source, target_id)
    return source.ledger(target_id)


def mark_replayed(source: Any, key: str, tag: str, stamp: str) -> None:
    if isinstance(source, FailureStore):
        source.add_tag(key, tag, stamp)
    else:
        source.mark_replayed(key, stamp)


__all__ = ["QueueSource", "ledger_for", "mark_replayed", "source_for_destination"]
