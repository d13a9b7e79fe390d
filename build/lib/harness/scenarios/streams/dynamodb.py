"""A scenario's items into a DynamoDB table, and its stream read back (spec 6, 8).

Items are plain JSON (numbers as Decimals). A plain object is a PutItem; `{"$update": key, "$set":
{...}, "$remove": [...]}` an UpdateItem; `{"$delete": key}` a DeleteItem. Each write must change the
table, because DynamoDB Streams writes no record for a write that changes nothing (a PutItem of
the same item, a DeleteItem of an absent key): such an item could never be poison on AWS, so it is
refused up front, naming the item.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Mapping, Sequence

from boto3.dynamodb.types import TypeSerializer

from harness.scenarios.model import ScenarioError
from harness.scenarios.streams import StreamRecord, Write, pair_with_writes, read_shards

_SER = TypeSerializer()


def _decimals(value: Any) -> Any:
    """boto3 refuses floats for DynamoDB numbers; a float from a Python scenario becomes its exact text."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    return value


def canonical_key(values: Mapping[str, Any]) -> str:
    """One text per item key, the same for a written item and for a stream record's Keys."""
    return json.dumps({k: str(v) for k, v in sorted(values.items())}, separators=(",", ":"))


def record_key(record: Mapping[str, Any]) -> str:
    from boto3.dynamodb.types import TypeDeserializer

    deser = TypeDeserializer()
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    return canonical_key({k: deser.deserialize(v) for k, v in keys.items()})


class DynamoDBWriter:
    kind = "dynamodb"

    def __init__(self, *, key_schema: Sequence[str]) -> None:
        if not key_schema:
            raise ValueError("a DynamoDB writer needs the table's key schema (attribute names, HASH first)")
        self.key_schema = tuple(key_schema)
        self.pipe: Any = None
        self.table_name = ""
        self.stream_arn = ""

    def bind(self, pipe: Any, target: Any) -> None:
        """Where to write, once the stack is deployed: the table and the stream its mapping reads."""
        self.pipe = pipe
        self.table_name = target.stream_name
        self.stream_arn = target.stream_arn

    # -- checking -----------------------------------------------------------------------------
    def _key(self, values: Mapping[str, Any], where: str, *, exact: bool) -> dict[str, Any]:
        for name in self.key_schema:
            if name not in values:
                raise ScenarioError(f"{where}: field {name!r}: missing the table's key attribute "
                                    f"(key schema: {', '.join(self.key_schema)})")
            if not isinstance(values[name], (str, int, Decimal, bytes)) or isinstance(values[name], bool):
                raise ScenarioError(f"{where}: field {name!r}: a key attribute must be a string, number or binary, "
                                    f"got {values[name]!r}")
        if exact:
            extra = [k for k in values if k not in self.key_schema]
            if extra:
                raise ScenarioError(f"{where}: field {extra[0]!r} is not a key attribute "
                                    f"(key schema: {', '.join(self.key_schema)})")
        return {k: values[k] for k in self.key_schema}

    def prepare(self, items: Sequence[Any], *, where: str) -> list[Write]:
        """Each item checked against the key schema and against the table as the writes leave it."""
        table: dict[str, dict[str, Any]] = {}
        out: list[Write] = []
        for i, raw in enumerate(items):
            at = f"{where}: items[{i}]"
            item = _decimals(dict(raw))
            if "$delete" in item:
                key = self._key(item["$delete"], at + ".$delete", exact=True)
                ck = canonical_key(key)
                if ck not in table:
                    raise ScenarioError(f"{at}: $delete of {key} removes nothing (no such item yet): DynamoDB Streams "
                                        "writes no record for it, so it can never reach the consumer")
                del table[ck]
                out.append(Write(i, "delete", ck, key, event="REMOVE"))
            elif "$update" in item:
                key = self._key(item["$update"], at + ".$update", exact=True)
                ck = canonical_key(key)
                sets, remove = dict(item.get("$set") or {}), tuple(item.get("$remove") or ())
                clash = [k for k in list(sets) + list(remove) if k in self.key_schema]
                if clash:
                    raise ScenarioError(f"{at}: field {clash[0]!r}: an update cannot change a key attribute")
                before = table.get(ck)
                after = {**(before or key), **sets}
                for name in remove:
                    after.pop(name, None)
                if before == after:
                    raise ScenarioError(f"{at}: the update changes nothing: DynamoDB Streams writes no record for it")
                table[ck] = after
                out.append(Write(i, "update", ck, key, set=sets, remove=remove,
                                 event="MODIFY" if before is not None else "INSERT"))
            else:
                body = item.get("$put", item)
                self._key(body, at, exact=False)
                ck = canonical_key({k: body[k] for k in self.key_schema})
                before = table.get(ck)
                if before == body:
                    raise ScenarioError(f"{at}: writes the item unchanged: DynamoDB Streams writes no record for it")
                table[ck] = dict(body)
                out.append(Write(i, "put", ck, dict(body), event="MODIFY" if before is not None else "INSERT"))
        return out

    # -- writing ------------------------------------------------------------------------------
    def write(self, writes: list[Write]) -> None:
        ddb = self.pipe.backend.client("dynamodb")
        journal = self.pipe.journal
        for w in writes:
            if w.op == "put":
                ddb.put_item(TableName=self.table_name, Item={k: _SER.serialize(v) for k, v in w.item.items()})
            elif w.op == "delete":
                ddb.delete_item(TableName=self.table_name, Key={k: _SER.serialize(v) for k, v in w.item.items()})
            else:
                names = {f"#s{n}": k for n, k in enumerate(w.set)} | {f"#r{n}": k for n, k in enumerate(w.remove)}
                parts = []
                if w.set:
                    parts.append("SET " + ", ".join(f"#s{n} = :s{n}" for n in range(len(w.set))))
                if w.remove:
                    parts.append("REMOVE " + ", ".join(f"#r{n}" for n in range(len(w.remove))))
                params: dict[str, Any] = {"TableName": self.table_name,
                                          "Key": {k: _SER.serialize(v) for k, v in w.item.items()},
                                          "UpdateExpression": " ".join(parts), "ExpressionAttributeNames": names}
                if w.set:
                    params["ExpressionAttributeValues"] = {f":s{n}": _SER.serialize(v)
                                                           for n, v in enumerate(w.set.values())}
                ddb.update_item(**params)
            journal.record("injected", table=self.table_name, index=w.index, op=w.op, key=w.key, item=w.item,
                           **({"set": w.set, "remove": list(w.remove)} if w.op == "update" else {}))

    # -- reading back -------------------------------------------------------------------------
    def read_back(self, writes: list[Write]) -> list[StreamRecord]:
        from harness.esm.sources.dynamodb_streams import DynamoDBStreamSource

        source = DynamoDBStreamSource(self.pipe.backend.client("dynamodbstreams"), self.stream_arn,
                                      self.pipe.backend.region)
        out = []
        for (shard, rec), index in pair_with_writes(read_shards(source), writes, record_key):
            ddb = rec["dynamodb"]
            out.append(StreamRecord(seq=ddb["SequenceNumber"], shard=shard, key=record_key(rec),
                                    arrival=float(ddb.get("ApproximateCreationDateTime", 0)),
                                    event=rec.get("eventName") or "", index=index, record=rec))
        return out
