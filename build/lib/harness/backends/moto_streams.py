"""A fast GetRecords response for moto's DynamoDB Streams, byte for byte what moto would send.

Why: moto 5.2 serializes every response by walking the botocore shape model value by value
(moto.core.serialize), and a GetRecords page of 1000 stream records costs about 1 s of CPU that
way. That is the largest cost the ESM engine adds over invoking the consumer directly (about a
third of the extra CPU in the end-to-end benchmark, benchmarks/e2e.py), and it runs in the
process that also serves the consumer's writes. Stream records are already plain dicts in the
wire's shape; only their timestamp and blobs need converting, so this module builds the same JSON
directly.

Exactness is by construction, not by approximation: a record that holds anything outside what is
handled here (a key the shape does not name, a value of an unexpected type, pretty-printed
responses) sends the whole page down moto's own serializer. tests/unit/backends/test_moto_streams.py
compares the two byte for byte, over generated attribute values of every type.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from moto import settings
from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import TimestampSerializer, get_serializer_class
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

_RECORD_KEYS = ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "userIdentity")
_STREAM_KEYS = ("ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes",
                "StreamViewType")
_IMAGES = ("Keys", "NewImage", "OldImage")
_IDENTITY_KEYS = ("PrincipalId", "Type")
_STRINGS = ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion")
_ORIGINAL = DynamoDBStreamsHandler.get_records


class _Slow(Exception):
    """This page holds something the fast path does not handle: moto's serializer answers it."""


def _blob(value: Any) -> str:
    if type(value) is bytes:
        return base64.b64encode(value).decode("utf-8")
    raise _Slow


def _attribute(value: Any) -> dict[str, Any]:
    """One AttributeValue as moto's serializer writes it."""
    if type(value) is not dict or len(value) != 1:
        raise _Slow
    ((kind, inner),) = value.items()
    if kind == "S" or kind == "N":
        if type(inner) is not str:
            raise _Slow
        return value
    if kind == "M":
        if type(inner) is not dict:
            raise _Slow
        return {"M": {_name(k): _attribute(v) for k, v in inner.items()}}
    if kind == "L":
        if type(inner) is not list:
            raise _Slow
        return {"L": [_attribute(v) for v in inner]}
    if kind == "SS" or kind == "NS":
        if type(inner) is not list or not inner or any(type(v) is not str for v in inner):
            raise _Slow
        return value
    if kind == "B":
        return {"B": _blob(inner)}
    if kind == "BS":
        if type(inner) is not list or not inner:
            raise _Slow
        return {"BS": [_blob(v) for v in inner]}
    if kind == "BOOL" or kind == "NULL":
        if type(inner) is not bool:
            raise _Slow
        return value
    raise _Slow


def _name(key: Any) -> str:
    if type(key) is not str or not key:  # moto's map serializer treats an empty key its own way
        raise _Slow
    return key


def _image(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Slow
    return {_name(k): _attribute(v) for k, v in value.items()}


def _stream_record(ddb: Any) -> dict[str, Any]:
    if type(ddb) is not dict or not ddb.keys() <= set(_STREAM_KEYS):
        raise _Slow
    out: dict[str, Any] = {}
    for key in _STREAM_KEYS:
        value = ddb.get(key)
        if value is None:
            continue
        if key == "ApproximateCreationDateTime":
            if type(value) is not dt.datetime:
                raise _Slow
            out[key] = TimestampSerializer._timestamp_unixtimestamp(value)
        elif key in _IMAGES:
            out[key] = _image(value)
        elif key == "SizeBytes":
            if type(value) is not int:
                raise _Slow
            out[key] = value
        elif type(value) is str:
            out[key] = value
        else:
            raise _Slow
    return out


def _record(rec: Any) -> dict[str, Any]:
    if type(rec) is not dict or not rec.keys() <= set(_RECORD_KEYS):
        raise _Slow
    out: dict[str, Any] = {}
    for key in _RECORD_KEYS:
        value = rec.get(key)
        if value is None:
            continue
        if key == "dynamodb":
            out[key] = _stream_record(value)
        elif key == "userIdentity":
            if type(value) is not dict or not value.keys() <= set(_IDENTITY_KEYS) or \
                    any(type(v) is not str for v in value.values()):
                raise _Slow
            out[key] = {k: value[k] for k in _IDENTITY_KEYS if k in value}
        elif type(value) is str:
            out[key] = value
        else:
            raise _Slow
    return out


def fast_body(result: Any) -> str | None:
    """The GetRecords JSON body for moto's result, or None when moto's serializer must write it."""
    if settings.PRETTIFY_RESPONSES or type(result) is not dict or not result.keys() <= {"Records", "NextShardIterator"}:
        return None
    records = result.get("Records")
    nxt = result.get("NextShardIterator")
    if type(records) is not list or (nxt is not None and type(nxt) is not str):
        return None
    try:
        body: dict[str, Any] = {"Records": [_record(r) for r in records]}
    except _Slow:
        return None
    if nxt is not None:
        body["NextShardIterator"] = nxt
    return json.dumps(body)


class FastRecordsResult(ActionResult):
    """GetRecords' result, serialized directly when it can be, else exactly as moto would."""

    def execute_result(self, context: ActionContext) -> Any:
        json_protocol = context.service_model.protocol == "json" and \
            context.serializer_class is get_serializer_class(context.service_model.service_name, "json")
        body = fast_body(self.result) if json_protocol else None
        if body is None:
            return super().execute_result(context)
        status = context.operation_model.http.get("responseCode", 200)
        version = context.service_model.metadata.get("jsonVersion", "1.0")
        return status, {"Content-Type": f"application/x-amz-json-{version}"}, body


def _fast_get_records(self: DynamoDBStreamsHandler) -> Any:
    result = _ORIGINAL(self)
    return FastRecordsResult(result.result) if type(result) is ActionResult else result


def install() -> None:
    """Answer GetRecords through FastRecordsResult in this process (moto's state is process-wide anyway)."""
    DynamoDBStreamsHandler.get_records = _fast_get_records  # type: ignore[method-assign]


def uninstall() -> None:
    DynamoDBStreamsHandler.get_records = _ORIGINAL  # type: ignore[method-assign]


__all__ = ["FastRecordsResult", "fast_body", "install", "uninstall"]
