"""A scenario's items as the stream records Lambda would receive, built without a backend.

Why: explore answers "what would each setting do" in milliseconds, so nothing is deployed; the
oracle still needs Lambda-shaped records with the stream's own shapes (DynamoDB INSERT/MODIFY/
REMOVE with its key schema and view type, spec 6; Kinesis records on the shard their partition key
hashes to, spec 10) so filters, keys and lanes act as they would on the stack's stream. The items
go through the stream's own scenario writer (`prepare`), so an item the real run would refuse is
refused here with the same message.
"""

from __future__ import annotations

import hashlib
from base64 import b64encode
from typing import Any

from harness.esm.records import make_record, to_attribute_value
from harness.esm.sources import kinesis as kinesis_records
from harness.streams import StreamRecord, Write, writer_for

DYNAMODB_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/{name}/stream/2024-01-01T00:00:00.000"
KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/{name}"
REGION = "us-east-1"
START = 1_700_000_000.0  # every item is written in the same second, as a scenario run writes them
SEQ_BASE = 10**20
KINESIS_SEQ_BASE = 49590338271490256608559692538361571095921575989136500000
HASH_SPACE = 2**128


def build_stream(items: Any, *, kind: str, key_schema: tuple[str, ...] = (), view_type: str | None = None,
                 shard_count: int = 1, name: str = "explored", where: str = "scenario") -> list[StreamRecord]:
    """One StreamRecord per item, in write order (so a record's position is its item index)."""
    writer = writer_for(kind)(key_schema=key_schema)
    writes = writer.prepare(items, where=where)
    if kind == "kinesis":
        return _kinesis(writes, shard_count, KINESIS_ARN.format(name=name))
    return _dynamodb(writes, key_schema, view_type or "NEW_AND_OLD_IMAGES", DYNAMODB_ARN.format(name=name))


def _av(values: dict[str, Any]) -> dict[str, Any]:
    return {k: to_attribute_value(_plain(v)) for k, v in values.items()}


def _plain(v: Any) -> Any:
    """Decimals from scenario files as the numbers they are (DynamoDB sends numbers as text anyway)."""
    from decimal import Decimal

    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def _dynamodb(writes: list[Write], key_schema: tuple[str, ...], view: str, arn: str) -> list[StreamRecord]:
    """The table as the writes leave it gives each record its old and new image (spec 6)."""
    table: dict[str, dict[str, Any]] = {}
    out = []
    for n, w in enumerate(writes):
        before = table.get(w.key)
        if w.op == "put":
            after: dict[str, Any] | None = dict(w.item)
        elif w.op == "update":
            after = {**(before or w.item), **w.set}
            for name in w.remove:
                after.pop(name, None)
        else:
            after = None
        if after is None:
            table.pop(w.key, None)
        else:
            table[w.key] = after
        keys = _av({k: (after or before or w.item)[k] for k in key_schema})
        seq = str(SEQ_BASE + n * 100)
        rec = make_record(sequence_number=seq, arrival_s=START, new_image=_av(after or {}), keys=keys,
                          stream_arn=arn, region=REGION, event_id=f"{n + 1:032x}", event_name=w.event,
                          stream_view_type=view, old_image=_av(before) if before is not None else None)
        out.append(StreamRecord(seq=seq, shard="", key=w.key, arrival=START, event=w.event, index=w.index, record=rec))
    return out


def shard_of(partition_key: str, shard_count: int, explicit_hash_key: str | None = None) -> int:
    """Kinesis routes a record by the MD5 of its partition key (or its explicit hash key) into
    shards that split the 128-bit hash space evenly, as CreateStream with ShardCount makes them."""
    h = int(explicit_hash_key) if explicit_hash_key else int(hashlib.md5(partition_key.encode()).hexdigest(), 16)
    return min(h * shard_count // HASH_SPACE, shard_count - 1)


def _kinesis(writes: list[Write], shard_count: int, arn: str) -> list[StreamRecord]:
    identity = kinesis_records.stand_in_role(arn.split(":")[4])
    out = []
    for n, w in enumerate(writes):
        sid = f"shardId-{shard_of(w.key, shard_count, w.item.get('explicitHashKey')):012d}"
        seq = str(KINESIS_SEQ_BASE + n * 100)
        data = b64encode(kinesis_records.data_bytes(w.item["data"])).decode("ascii")
        rec = kinesis_records.make_record(sequence_number=seq, arrival_s=START, partition_key=w.key, data_b64=data,
                                          shard_id=sid, stream_arn=arn, region=REGION, invoke_identity_arn=identity)
        out.append(StreamRecord(seq=seq, shard=sid, key=w.key, arrival=START, event=w.event, index=w.index, record=rec))
    return out
