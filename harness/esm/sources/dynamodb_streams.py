"""DynamoDB Streams through boto3 (DescribeStream, GetShardIterator, GetRecords).

Works against any backend the client points at. Records are normalised to Lambda's shape
(spec 6) as they are read; shard lineage comes from ParentShardId (spec 8).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from harness.esm.records import Record, normalise
from harness.esm.sources import ShardInfo


class StreamReadError(RuntimeError):
    """The stream could not be read; names the stream and shard. Retried by the reader."""


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


class DynamoDBShardCursor:
    """Keeps the NextShardIterator; if it expires (15 min, spec 8) reopens after the last record read."""

    def __init__(self, source: DynamoDBStreamSource, shard_id: str, starting_position: str, after: str | None) -> None:
        self._src = source
        self._shard_id = shard_id
        self._start = starting_position
        self._last_seq = after
        self._iterator: str | None = None
        self._finished = False

    def _new_iterator(self) -> str | None:
        kwargs: dict[str, Any] = {"StreamArn": self._src.stream_arn, "ShardId": self._shard_id}
        if self._last_seq is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self._last_seq)
        else:
            kwargs["ShardIteratorType"] = self._start
        try:
            return self._src.client.get_shard_iterator(**kwargs).get("ShardIterator")
        except ClientError as exc:
            raise StreamReadError(f"GetShardIterator {self._src.stream_arn} {self._shard_id}: {exc}") from exc

    @property
    def positioned(self) -> bool:
        """Whether the shard iterator exists: from then on, LATEST means the tip as of that call."""
        return self._iterator is not None or self._finished

    def read(self, limit: int) -> tuple[list[Record], bool]:
        if self._finished:
            return [], True
        if self._iterator is None:
            self._iterator = self._new_iterator()
            if self._iterator is None:
                self._finished = True
                return [], True
        try:
            resp = self._src.client.get_records(ShardIterator=self._iterator, Limit=max(1, min(limit, 1000)))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ExpiredIteratorException":
                self._iterator = None
                return [], False
            raise StreamReadError(f"GetRecords {self._src.stream_arn} {self._shard_id}: {exc}") from exc
        raw = resp.get("Records", [])
        out = [normalise(r, self._src.stream_arn, self._src.region) for r in raw]
        if out:
            self._last_seq = out[-1]["dynamodb"]["SequenceNumber"]
        nxt = resp.get("NextShardIterator")
        if nxt is None:  # a closed shard read to its end
            self._finished = True
        self._iterator = nxt
        return out, self._finished
