"""The replay ledger: which records were replayed to which target, written only after success.

Choice: the ledger lives in the failure bucket itself, under `replay-ledger/<kind>/<name>/`, one
JSON object per successfully replayed CHUNK (a BatchWriteItem, an SQS batch or one Invoke), each
listing the record ids (`<object key>#<seq>`) it covers. Why the bucket rather than a local file:
it sits next to the data it describes, behind the same ExpectedBucketOwner guard and lifecycle,
and every operator or machine replaying that bucket sees it, so a second replay from elsewhere
is still a no-op. Why per chunk rather than per record: a PutObject costs ~8 ms on the embedded
backend, so one object per record would cap replay near 100 records/s; a chunk is written only
after all its records succeeded, so an interrupted replay resumes at the first chunk not
recorded. The window between a chunk's success and its ledger write is the one place a crash
can repeat work (at-least-once, like the ESM itself: spec 7.1).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Iterable
from urllib.parse import quote

from harness.failures.store import REPLAY_LEDGER_PREFIX as LEDGER_PREFIX
from harness.failures.store import FailureStore, StoreError


class LedgerError(StoreError):
    """A ledger object could not be read or written; the message names its key."""


class S3Ledger:
    """The ledger of one target (e.g. `table/orders`) in the failure bucket."""

    def __init__(self, store: FailureStore, target_id: str) -> None:
        kind, _, name = target_id.partition("/")
        if not kind or not name:
            raise ValueError(f"target id {target_id!r} must look like <kind>/<name>")
        self.store = store
        self.target_id = target_id
        self.prefix = f"{LEDGER_PREFIX}{kind}/{quote(name, safe='')}/"

    def done(self) -> dict[str, str]:
        """Record id -> when it was replayed, for every record this target already received."""
        out: dict[str, str] = {}
        for summary in self.store.iter_keys(prefix=self.prefix):
            key = summary["Key"]
            try:
                entry = json.loads(self.store.read_body(key))
                for rid in entry["records"]:
                    out.setdefault(rid, entry["replayedAt"])
            except (ValueError, KeyError, TypeError) as exc:
                raise LedgerError(f"ledger object s3://{self.store.bucket}/{key} is unreadable: {exc}") from None
        return out

    def record(self, record_ids: Iterable[str], *, run_id: str) -> str:
        """Write one ledger object for records whose replay succeeded; returns its key."""
        ids = list(record_ids)
        now = datetime.now(timezone.utc)
        key = f"{self.prefix}{now:%Y%m%dT%H%M%S.%f}Z-{uuid.uuid4()}.json"
        body = {"target": self.target_id, "run": run_id, "replayedAt": now.isoformat(timespec="milliseconds"),
                "records": ids}
        self.store.call("put_object", Bucket=self.store.bucket, Key=key,
                        Body=json.dumps(body).encode(), ContentType="application/json")
        return key


__all__ = ["LEDGER_PREFIX", "LedgerError", "S3Ledger"]
