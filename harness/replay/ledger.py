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
from pathlib import Path
from typing import Any, Iterable
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
                _add_entry(out, json.loads(self.store.read_body(key)))
            except (ValueError, KeyError, TypeError) as exc:
                raise LedgerError(f"ledger object s3://{self.store.bucket}/{key} is unreadable: {exc}") from None
        return out

    def record(self, record_ids: Iterable[str], *, run_id: str) -> str:
        """Write one ledger object for records whose replay succeeded; returns its key."""
        now = datetime.now(timezone.utc)
        key = f"{self.prefix}{now:%Y%m%dT%H%M%S.%f}Z-{uuid.uuid4()}.json"
        body = _entry(self.target_id, run_id, now, record_ids)
        self.store.call("put_object", Bucket=self.store.bucket, Key=key,
                        Body=json.dumps(body).encode(), ContentType="application/json")
        return key




class FileLedger:
    """The ledger of one target for failure records read from a queue, in a local JSON-lines file.

    Why not in the queue: the messages belong to the team (the harness never deletes or rewrites
    them), and a queue has no place for side data. One line per successful chunk, appended, so an
    interrupted replay resumes like with the S3 ledger.
    """

    def __init__(self, path: Path, target_id: str) -> None:
        self.path = path
        self.target_id = target_id

    def done(self) -> dict[str, str]:
        out: dict[str, str] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return out
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                _add_entry(out, json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise LedgerError(f"ledger {self.path} line {n} is unreadable: {exc}") from None
        return out

    def record(self, record_ids: Iterable[str], *, run_id: str) -> str:
        entry = _entry(self.target_id, run_id, datetime.now(timezone.utc), record_ids)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")
        except OSError as exc:
            raise LedgerError(f"ledger {self.path} cannot be written: {exc}") from None
        return str(self.path)


def _entry(target_id: str, run_id: str, now: datetime, record_ids: Iterable[str]) -> dict[str, Any]:
    """One ledger entry, the same in an S3 object and a file line."""
    return {"target": target_id, "run": run_id, "replayedAt": now.isoformat(timespec="milliseconds"),
            "records": list(record_ids)}


def _add_entry(out: dict[str, str], entry: dict[str, Any]) -> None:
    """Record id -> when it was first replayed; KeyError/TypeError for an entry of another shape."""
    for rid in entry["records"]:
        out.setdefault(rid, entry["replayedAt"])


__all__ = ["FileLedger", "LEDGER_PREFIX", "LedgerError", "S3Ledger"]
