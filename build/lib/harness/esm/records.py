"""DynamoDB stream records in the shape Lambda delivers them (spec 6).

Records are plain dicts on the hot path (a simulation moves millions of them); this module
knows the DynamoDB record's shape (Kinesis's is in sources/kinesis.py; the engine reads either
only through the mapping's StreamKind, sources/kind.py). moto's GetRecords output differs from
what Lambda sends (eventVersion "1.0", a datetime ApproximateCreationDateTime, no
eventSourceARN), so every source passes records through `normalise` once, when they are read.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

Record = dict[str, Any]

EVENT_VERSION = "1.1"  # spec 6: AWS-OBS Nov 2025, despite the docs' "1.0"
_KEY_ORDER = ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN")


def epoch_seconds(value: Any) -> int:
    """ApproximateCreationDateTime as Lambda sends it: whole epoch seconds, rounded down (spec 6)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)  # moto's utcnow() is naive UTC
        return math.floor(value.timestamp())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return math.floor(value)
    if isinstance(value, str):
        return math.floor(float(value))  # one doc example shows "1678831218.0" (spec 6 [GAP])
    raise ValueError(f"ApproximateCreationDateTime {value!r} is not a time")


def normalise(raw: dict[str, Any], stream_arn: str, region: str) -> Record:
    """A GetRecords record -> the Lambda event record: AWS-OBS key order, eventVersion 1.1,
    numeric ApproximateCreationDateTime, eventSourceARN added; userIdentity kept (TTL deletes)."""
    ddb = dict(raw.get("dynamodb") or {})
    if "SequenceNumber" not in ddb:
        raise ValueError(f"stream record {raw.get('eventID')!r} has no dynamodb.SequenceNumber")
    if "ApproximateCreationDateTime" in ddb:
        ddb["ApproximateCreationDateTime"] = epoch_seconds(ddb["ApproximateCreationDateTime"])
    ordered = {k: ddb[k] for k in ("ApproximateCreationDateTime", "Keys", "NewImage", "OldImage",
                                   "SequenceNumber", "SizeBytes", "StreamViewType") if k in ddb}
    ordered.update({k: v for k, v in ddb.items() if k not in ordered})
    rec: Record = {
        "eventID": raw.get("eventID"),
        "eventName": raw.get("eventName"),
        "eventVersion": EVENT_VERSION,
        "eventSource": raw.get("eventSource", "aws:dynamodb"),
        "awsRegion": raw.get("awsRegion") or region,
        "dynamodb": ordered,
        "eventSourceARN": stream_arn,
    }
    if raw.get("userIdentity"):
        rec["userIdentity"] = raw["userIdentity"]
    return rec


def seq(record: Record) -> str:
    return record["dynamodb"]["SequenceNumber"]


def arrival(record: Record) -> int:
    return record["dynamodb"].get("ApproximateCreationDateTime", 0)


def size_bytes(record: Record) -> int:
    """Bytes this record adds to the invoke payload (for the 6 MB cap, spec 5)."""
    return len(json.dumps(record, separators=(",", ":"))) + 1


def to_attribute_value(value: Any) -> dict[str, Any]:
    """Plain JSON -> DynamoDB AttributeValue, so simulate can take NewImage-like plain dicts."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": repr(value) if isinstance(value, float) else str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [to_attribute_value(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: to_attribute_value(v) for k, v in value.items()}}
    raise ValueError(f"value {value!r} of type {type(value).__name__} has no DynamoDB representation")


def _value_size(av: dict[str, Any]) -> int:
    for t, v in av.items():
        if t == "S":
            return len(v) if v.isascii() else len(v.encode())
        if t in ("N", "B"):
            return len(v)
        if t in ("BOOL", "NULL"):
            return 1
        if t == "M":
            return 3 + item_size(v)
        if t == "L":
            return 3 + sum(1 + _value_size(x) for x in v)
        return sum(len(str(x)) for x in v)  # SS / NS / BS
    return 0


def item_size(image: dict[str, Any]) -> int:
    """DynamoDB's item size rule (attribute names plus values, in bytes): what SizeBytes counts."""
    n = 0
    for k, av in image.items():
        n += len(k) + _value_size(av)
    return n


def make_record(*, sequence_number: str, arrival_s: float, new_image: dict[str, Any], keys: dict[str, Any],
                stream_arn: str, region: str, event_id: str, event_name: str = "INSERT",
                stream_view_type: str = "NEW_AND_OLD_IMAGES", old_image: dict[str, Any] | None = None,
                size: int | None = None) -> Record:
    """A Lambda-shaped record built directly (in-memory sources): images already AttributeValues."""
    ddb: dict[str, Any] = {"ApproximateCreationDateTime": math.floor(arrival_s), "Keys": keys}
    if event_name != "REMOVE" and stream_view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        ddb["NewImage"] = new_image
    if old_image is not None and event_name != "INSERT" and stream_view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        ddb["OldImage"] = old_image
    ddb["SequenceNumber"] = sequence_number
    ddb["SizeBytes"] = size if size is not None else max(1, item_size(keys) + (item_size(new_image) if "NewImage" in ddb else 0)
                           + (item_size(old_image) if "OldImage" in ddb else 0))
    ddb["StreamViewType"] = stream_view_type
    return {
        "eventID": event_id,
        "eventName": event_name,
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": ddb,
        "eventSourceARN": stream_arn,
    }
