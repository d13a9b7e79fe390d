"""S3 key layouts for Lambda failure records (spec section 4).

Two layouts exist: the ESM one, which DynamoDB and Kinesis mappings use, and the asynchronous
invocation one, which AWS's blog wrongly shows for streams. Both are parsed so that a replay
tool can read what it finds; only the ESM layout counts as AWS's shape for a stream mapping.
The optional `.json` suffix is tolerated because no evidence settles it (spec 4, [GAP]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_STAMP = r"(?P<stamp>\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2})"
_DATE = r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})"

ESM_KEY = re.compile(
    rf"^aws/lambda/(?P<esm_uuid>{_UUID})/(?P<shard_id>[^/]+)/{_DATE}/{_STAMP}-(?P<random>{_UUID})(?P<suffix>\.json)?$"
)
ASYNC_KEY = re.compile(
    rf"^aws/lambda/async/(?P<function>[^/]+)/{_DATE}/{_STAMP}-(?P<random>{_UUID})(?P<suffix>\.json)?$"
)


class KeyLayoutError(ValueError):
    """The key follows neither documented layout; the message quotes the key."""


@dataclass(frozen=True)
class FailureKey:
    layout: str  # "esm" | "async"
    key: str
    timestamp: datetime  # second precision, UTC, from the key's file name
    esm_uuid: str | None = None
    shard_id: str | None = None
    function_name: str | None = None
    has_json_suffix: bool = False


def parse_key(key: str) -> FailureKey:
    """Parse a failure-record key; the date folders must agree with the file-name stamp."""
    for layout, pattern in (("esm", ESM_KEY), ("async", ASYNC_KEY)):
        m = pattern.match(key)
        if not m:
            continue
        try:
            stamp = datetime.strptime(m["stamp"], "%Y-%m-%dT%H.%M.%S").replace(tzinfo=timezone.utc)
        except ValueError:  # matches the pattern but is no real time, e.g. month 13
            raise KeyLayoutError(f"key {key!r}: stamp {m['stamp']} is not a valid UTC date and time") from None
        if (m["y"], m["m"], m["d"]) != (f"{stamp:%Y}", f"{stamp:%m}", f"{stamp:%d}"):
            raise KeyLayoutError(f"key {key!r}: date folders {m['y']}/{m['m']}/{m['d']} disagree with stamp {m['stamp']}")
        return FailureKey(
            layout=layout,
            key=key,
            timestamp=stamp,
            esm_uuid=m.groupdict().get("esm_uuid"),
            shard_id=m.groupdict().get("shard_id"),
            function_name=m.groupdict().get("function"),
            has_json_suffix=bool(m["suffix"]),
        )
    raise KeyLayoutError(
        f"key {key!r} matches neither aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid> "
        "nor aws/lambda/async/<function>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>"
    )
