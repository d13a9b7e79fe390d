"""Target (b): write the records' items back into the source table, marked as replays.

Each re-put item is the record's NewImage plus `replayOf = "<object key>#<seq>"`. The marker is
what stops a loop: the replayed write produces a new stream record; if that one fails again, its
image carries `replayOf` and the replayer refuses it unless forced.

REMOVE rule: by default a REMOVE record is skipped with a reason, because re-issuing a delete
from a failure object can destroy a write made after the failure. With `removes="delete"` the
delete is re-issued as DeleteItem on the record's Keys. INSERT/MODIFY records without a NewImage
(KEYS_ONLY or OLD_IMAGE streams) cannot be re-put and fail with that reason.

Writes go through BatchWriteItem (25 items, distinct keys per call) for throughput; if DynamoDB
rejects a whole batch (ValidationException), its records are retried one by one so the bad item
is named and the others still go through.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.replay.plan import REPLAY_MARKER, PlannedRecord
from harness.replay.targets.base import Outcome, TargetError, Verdict

REMOVE_RULES = ("skip", "delete")


class TableTarget:
    """Re-puts NewImages (and optionally re-deletes REMOVEs) into `table`."""

    max_chunk = 25
    distinct_keys = True
    same_object = False

    def __init__(self, dynamodb_client: Any, table: str, *, removes: str = "skip", unprocessed_attempts: int = 4) -> None:
        if not table:
            raise ValueError("table: the table to write replayed items to is required")
        if removes not in REMOVE_RULES:
            raise ValueError(f"removes {removes!r} must be one of {', '.join(REMOVE_RULES)}")
        self.ddb = dynamodb_client
        self.table = table
        self.removes = removes
        self.attempts = unprocessed_attempts
        self.target_id = f"table/{table}"
        self.key_names: list[str] = []

    def prepare(self) -> None:
        try:
            desc = self.ddb.describe_table(TableName=self.table)["Table"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise TargetError(f"table {self.table!r} does not exist") from None
            raise TargetError(f"table {self.table!r}: DescribeTable failed: {code}") from None
        except BotoCoreError as exc:
            raise TargetError(f"table {self.table!r}: DescribeTable failed: {exc}") from None
        self.key_names = [k["AttributeName"] for k in desc["KeySchema"]]

    def check(self, record: PlannedRecord) -> Verdict | None:
        if record.source != "dynamodb":
            return Verdict("fail", f"a {record.source} record holds no table item to re-put; replay it to its "
                                   "stream instead (--target kinesis)")
        if record.event_name == "REMOVE":
            if self.removes == "skip":
                return Verdict("skip", "REMOVE event: deletes are not re-issued by default (a replayed delete could "
                                       "destroy a newer write); use removes=delete to re-issue DeleteItem on Keys")
            missing = [k for k in self.key_names if k not in record.keys]
            if missing:
                return Verdict("fail", f"Keys lack key attribute(s) {missing} of table {self.table!r}")
            return None
        image = record.new_image
        if image is None:
            view = (record.record.get("dynamodb") or {}).get("StreamViewType", "?")
            return Verdict("fail", f"{record.event_name or 'record'} has no NewImage (StreamViewType {view}); "
                                   "the item cannot be re-put")
        missing = [k for k in self.key_names if k not in image]
        if missing:
            return Verdict("fail", f"NewImage lacks key attribute(s) {missing} of table {self.table!r}")
        return None

    def describe(self, record: PlannedRecord) -> str:
        if record.event_name == "REMOVE":
            return f"DeleteItem {self.table} {record.item_key}"
        return f"PutItem {self.table} {record.item_key} with {REPLAY_MARKER}={record.id}"

    def _request(self, record: PlannedRecord) -> dict[str, Any]:
        if record.event_name == "REMOVE":
            return {"DeleteRequest": {"Key": dict(record.keys)}}
        item = dict(record.new_image or {})
        item[REPLAY_MARKER] = {"S": record.id}
        return {"PutRequest": {"Item": item}}

    def send(self, chunk: list[PlannedRecord]) -> list[Outcome]:
        pending = {i: self._request(p) for i, p in enumerate(chunk)}
        failed: dict[int, str] = {}
        for attempt in range(self.attempts):
            if not pending:
                break
            order = list(pending)
            try:
                resp = self.ddb.batch_write_item(RequestItems={self.table: [pending[i] for i in order]})
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code == "ValidationException":
                    return self._one_by_one(chunk)
                reason = f"BatchWriteItem on {self.table!r} failed: {code} {exc.response['Error'].get('Message', '')}"
                return [Outcome(p, False, reason) for p in chunk]
            except BotoCoreError as exc:
                return [Outcome(p, False, f"BatchWriteItem on {self.table!r} failed: {exc}") for p in chunk]
            left = resp.get("UnprocessedItems", {}).get(self.table, [])
            still = {}
            for req in left:
                for i in order:
                    if i not in still and pending[i] == req:
                        still[i] = req
                        break
            pending = still
            if pending and attempt + 1 < self.attempts:
                time.sleep(0.05 * 2 ** attempt)
        for i in pending:
            failed[i] = f"still unprocessed by BatchWriteItem on {self.table!r} after {self.attempts} attempts"
        return [Outcome(p, i not in failed, failed.get(i, self.describe(p))) for i, p in enumerate(chunk)]

    def _one_by_one(self, chunk: list[PlannedRecord]) -> list[Outcome]:
        out = []
        for p in chunk:
            req = self._request(p)
            try:
                if "PutRequest" in req:
                    self.ddb.put_item(TableName=self.table, Item=req["PutRequest"]["Item"])
                else:
                    self.ddb.delete_item(TableName=self.table, Key=req["DeleteRequest"]["Key"])
            except ClientError as exc:
                err = exc.response.get("Error", {})
                out.append(Outcome(p, False, f"{self.describe(p)} failed: {err.get('Code')} {err.get('Message', '')}"))
            except BotoCoreError as exc:
                out.append(Outcome(p, False, f"{self.describe(p)} failed: {exc}"))
            else:
                out.append(Outcome(p, True, self.describe(p)))
        return out


__all__ = ["REMOVE_RULES", "TableTarget"]
