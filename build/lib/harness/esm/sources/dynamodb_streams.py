"""DynamoDB Streams: the boto3 source (DescribeStream, GetShardIterator, GetRecords) and the
StreamKind that tells the engine how to read a DynamoDB record (`DYNAMODB`).

Works against any backend the client points at. Records are normalised to Lambda's shape
(spec 6) as they are read; shard lineage comes from ParentShardId (spec 8).
"""

from __future__ import annotations

import json
import re
from typing import Any

from botocore.exceptions import ClientError

from harness.esm.isotime import iso_seconds
from harness.esm.records import Record, normalise
from harness.esm.sources import ShardInfo
from harness.esm.sources.cursor import IteratorCursor, StreamReadError
from harness.esm.sources.kind import StreamKind

STREAM_ARN_RE = re.compile(r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[^/]+/stream/.+$")


class DynamoDBStreamSource:
    def __init__(self, client: Any, stream_arn: str, region: str = "us-east-1") -> None:
        self.client = client
        self.stream_arn = stream_arn
        self.region = region

    def list_shards(self) -> list[ShardInfo]:
        shards: list[ShardInfo] = []
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            try:
                desc = self.client.describe_stream(**kwargs)["StreamDescription"]
            except ClientError as exc:
                raise StreamReadError(f"DescribeStream {self.stream_arn}: {exc}") from exc
            for s in desc.get("Shards", []):
                rng = s.get("SequenceNumberRange", {})
                shards.append(ShardInfo(s["ShardId"], s.get("ParentShardId"), "EndingSequenceNumber" in rng))
            last = desc.get("LastEvaluatedShardId")
            if not last:
                return shards
            kwargs["ExclusiveStartShardId"] = last

    def open(self, shard_id: str, *, starting_position: str, after_sequence: str | None = None) -> "DynamoDBShardCursor":
        return DynamoDBShardCursor(self, shard_id, starting_position, after_sequence)


class DynamoDBShardCursor(IteratorCursor):
    """A DynamoDB stream shard; its iterator expires after 15 minutes (spec 8)."""

    def _iterator_request(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"StreamArn": self._src.stream_arn, "ShardId": self._shard_id}
        if self._last_seq is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self._last_seq)
        else:
            kwargs["ShardIteratorType"] = self._start
        return kwargs

    def _normalise(self, raw: dict[str, Any]) -> Record:
        return normalise(raw, self._src.stream_arn, self._src.region)

    def _sequence_number(self, record: Record) -> str:
        return record["dynamodb"]["SequenceNumber"]


# -- record accessors (spec 6): the hot path, literal keys -------------------------------------

def seq(record: Record) -> str:
    return record["dynamodb"]["SequenceNumber"]


def seqs(records: list[Record]) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in records]


def arrival(record: Record) -> float | None:
    """ApproximateCreationDateTime: whole epoch seconds (spec 6)."""
    return record["dynamodb"].get("ApproximateCreationDateTime")


def item_key(record: Record) -> str:
    """The item key (partition + sort key) as a canonical string (spec 1: order per item)."""
    keys = record["dynamodb"].get("Keys") or {}
    return json.dumps(keys, sort_keys=True, separators=(",", ":"))


def size_hint(record: Record) -> int:
    return record["dynamodb"].get("SizeBytes", 0)


def _any_filter(pattern: Any, where: str) -> None:
    """Spec 7.1: the docs say only the `dynamodb` key, yet AWS-validated tests filter on
    eventName and eventSource: every key is accepted."""


def _open(client: Any, stream_arn: str, region: str, **_: Any) -> DynamoDBStreamSource:
    return DynamoDBStreamSource(client, stream_arn, region)


DYNAMODB = StreamKind(
    name="dynamodb", label="DynamoDB stream", event_source="aws:dynamodb", record_key="dynamodb",
    arn_re=STREAM_ARN_RE, arn_shape="arn:aws:dynamodb:<region>:<account>:table/<t>/stream/<label>",
    starting_positions=("TRIM_HORIZON", "LATEST"), stream_arn_of=lambda arn: arn, check_filter=_any_filter,
    client_service="dynamodbstreams", poll_setting="dynamodb_poll_interval_s", default_poll_interval_s=0.25,
    open_source=_open,
    seq=seq, seqs=seqs, arrival=arrival, item_key=item_key, size_hint=size_hint, filter_view=None,
    batch_info_key="DDBStreamBatchInfo", arrival_iso=iso_seconds,
)
