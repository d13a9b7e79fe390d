"""A scenario's records into a Kinesis data stream, and the stream read back (spec 10).

An item is a record: `{"partitionKey": "...", "data": ...}` with an optional `explicitHashKey`.
`data` that is a string is sent as its UTF-8 bytes; any other JSON value (an object, a number...)
as its JSON text, which is what a producer sending JSON does and what Kinesis filters read. The
records of one partition key stay in order (one shard), so each record read back maps to the item
that wrote it.
"""

from __future__ import annotations

from typing import Any, Sequence

from harness.esm.sources.kinesis import MAX_PARTITION_KEY, data_bytes
from harness.scenarios.model import ScenarioError
from harness.scenarios.streams import StreamRecord, Write, pair_with_writes, read_shards

FIELDS = ("partitionKey", "data", "explicitHashKey")
MAX_DATA = 1024 * 1024  # a record's data blob, before base64


def record_key(record: dict[str, Any]) -> str:
    return record["kinesis"]["partitionKey"]


class KinesisWriter:
    kind = "kinesis"

    def __init__(self, *, key_schema: Sequence[str] = ()) -> None:
        self.pipe: Any = None
        self.stream_name = ""
        self.stream_arn = ""

    def bind(self, pipe: Any, target: Any) -> None:
        self.pipe = pipe
        self.stream_name = target.stream_name
        self.stream_arn = target.stream_arn

    def prepare(self, items: Sequence[Any], *, where: str) -> list[Write]:
        out = []
        for i, raw in enumerate(items):
            at = f"{where}: items[{i}]"
            ops = [k for k in raw if str(k).startswith("$")]
            if ops:
                raise ScenarioError(f"{at}: field {ops[0]!r}: a Kinesis stream takes records "
                                    "({partitionKey, data}), not DynamoDB writes")
            extra = [k for k in raw if k not in FIELDS]
            if extra:
                raise ScenarioError(f"{at}: field {extra[0]!r} is not a record field (a Kinesis record is "
                                    "{partitionKey, data} and optionally explicitHashKey)")
            key = raw.get("partitionKey")
            if not isinstance(key, str) or not 1 <= len(key) <= MAX_PARTITION_KEY:
                raise ScenarioError(f"{at}: field 'partitionKey' must be a string of 1 to {MAX_PARTITION_KEY} characters, "
                                    f"got {key!r}")
            if "data" not in raw:
                raise ScenarioError(f"{at}: field 'data' is required (a string, or any JSON value)")
            try:
                blob = data_bytes(raw["data"])
            except (TypeError, ValueError) as exc:
                raise ScenarioError(f"{at}: field 'data': {exc}") from None
            if len(blob) > MAX_DATA:
                raise ScenarioError(f"{at}: field 'data' is {len(blob)} bytes; a Kinesis record holds at most 1 MiB")
            hash_key = raw.get("explicitHashKey")
            if hash_key is not None and (not isinstance(hash_key, str) or not hash_key.isdigit()):
                raise ScenarioError(f"{at}: field 'explicitHashKey' must be a decimal string, got {hash_key!r}")
            item = {"partitionKey": key, "data": raw["data"], **({"explicitHashKey": hash_key} if hash_key else {})}
            out.append(Write(i, "record", key, item, event="aws:kinesis:record"))
        return out

    def write(self, writes: list[Write]) -> None:
        client = self.pipe.backend.client("kinesis")
        for w in writes:
            params: dict[str, Any] = {"StreamName": self.stream_name, "PartitionKey": w.key,
                                      "Data": data_bytes(w.item["data"])}
            if "explicitHashKey" in w.item:
                params["ExplicitHashKey"] = w.item["explicitHashKey"]
            resp = client.put_record(**params)
            self.pipe.journal.record("injected", stream=self.stream_name, index=w.index, op=w.op, key=w.key,
                                     item=w.item, shard_id=resp.get("ShardId"), sequence_number=resp.get("SequenceNumber"))

    def read_back(self, writes: list[Write]) -> list[StreamRecord]:
        from harness.esm.sources.kinesis import KinesisStreamSource

        source = KinesisStreamSource(self.pipe.backend.client("kinesis"), self.stream_arn, self.pipe.backend.region)
        out = []
        for (shard, rec), index in pair_with_writes(read_shards(source), writes, record_key):
            k = rec["kinesis"]
            out.append(StreamRecord(seq=k["sequenceNumber"], shard=shard, key=k["partitionKey"],
                                    arrival=float(k["approximateArrivalTimestamp"]), event=rec.get("eventName") or "",
                                    index=index, record=rec))
        return out
