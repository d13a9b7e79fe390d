"""A shard cursor over an iterator-based stream API (GetShardIterator + GetRecords), for every kind.

DynamoDB Streams and Kinesis read a shard the same way: ask for an iterator (at a starting
position, or just after the last record read), page with GetRecords, follow NextShardIterator,
and ask again after the last record when an iterator expires. Only the request shapes, the record
shape and when a shard counts as finished differ; a kind's cursor supplies those.
"""

from __future__ import annotations

import abc
from typing import Any

from botocore.exceptions import ClientError

from harness.esm.sources.kind import Record


class StreamReadError(RuntimeError):
    """The stream could not be read; names the stream and shard. Retried by the reader."""


class IteratorCursor(abc.ABC):
    """Keeps the NextShardIterator; an expired one is reopened after the last record read (spec 8)."""

    page_limit = 1000  # GetRecords' Limit maximum for the kind
    retry_codes: tuple[str, ...] = ()  # errors that mean "poll again later", besides an expired iterator

    def __init__(self, source: Any, shard_id: str, starting_position: str, after: str | None) -> None:
        self._src = source
        self._shard_id = shard_id
        self._start = starting_position
        self._last_seq = after
        self._iterator: str | None = None
        self._finished = False

    # -- what a kind supplies ---------------------------------------------------------------------
    @abc.abstractmethod
    def _iterator_request(self) -> dict[str, Any]:
        """GetShardIterator's parameters for the current position."""

    def _get_records(self, iterator: str, limit: int) -> dict[str, Any]:
        return self._src.client.get_records(ShardIterator=iterator, Limit=limit)

    @abc.abstractmethod
    def _normalise(self, raw: dict[str, Any]) -> Record:
        """A GetRecords record as Lambda delivers it."""

    @abc.abstractmethod
    def _sequence_number(self, record: Record) -> str:
        """The (normalised) record's sequence number, where a reopened iterator resumes after it."""

    def _ended(self, next_iterator: str | None, got: bool) -> bool:
        """Whether the shard is read to its end: a closed shard gives no next iterator."""
        return next_iterator is None

    # -- the shared reading -----------------------------------------------------------------------
    @property
    def positioned(self) -> bool:
        """Whether the shard iterator exists: from then on, LATEST means the tip as of that call."""
        return self._iterator is not None or self._finished

    def _new_iterator(self) -> str | None:
        try:
            return self._src.client.get_shard_iterator(**self._iterator_request()).get("ShardIterator")
        except ClientError as exc:
            raise StreamReadError(f"GetShardIterator {self._src.stream_arn} {self._shard_id}: {exc}") from exc

    def read(self, limit: int) -> tuple[list[Record], bool]:
        if self._finished:
            return [], True
        if self._iterator is None:
            self._iterator = self._new_iterator()
            if self._iterator is None:
                self._finished = True
                return [], True
        try:
            resp = self._get_records(self._iterator, max(1, min(limit, self.page_limit)))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ExpiredIteratorException":
                self._iterator = None
                return [], False
            if code in self.retry_codes:
                return [], False
            raise StreamReadError(f"GetRecords {self._src.stream_arn} {self._shard_id}: {exc}") from exc
        out = [self._normalise(r) for r in resp.get("Records", [])]
        if out:
            self._last_seq = self._sequence_number(out[-1])
        nxt = resp.get("NextShardIterator")
        if self._ended(nxt, bool(out)):
            self._finished = True
        self._iterator = nxt
        return out, self._finished
