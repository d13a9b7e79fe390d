"""The sample's projection table and its consumer's log lines, read the way an operator would."""

from __future__ import annotations

import json
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

_DESER = TypeDeserializer()


def projected(run: Any) -> dict[str, dict[str, Any]]:
    """pk -> projected order, from the stack's ProjectionTable (output ProjectionTableName)."""
    ddb = run.pipe.backend.client("dynamodb")
    out: dict[str, dict[str, Any]] = {}
    for page in ddb.get_paginator("scan").paginate(TableName=run.pipe.output("ProjectionTableName")):
        for item in page["Items"]:
            plain = {k: _DESER.deserialize(v) for k, v in item.items()}
            out[str(plain["pk"])] = plain
    return out


def projection_log(run: Any) -> list[dict[str, Any]]:
    """The consumer's `projected` log lines, in order (pk, sequence number, replay or not)."""
    out = []
    for e in run.pipe.journal.entries("function_log", function=run.consumer):
        try:
            line = json.loads(e.get("line", ""))
        except (TypeError, ValueError):
            continue
        if isinstance(line, dict) and line.get("event") == "record" and line.get("outcome") == "projected":
            out.append({"pk": line.get("pk"), "seq": line.get("sequenceNumber"), "replay": bool(line.get("replayOf"))})
    return out
