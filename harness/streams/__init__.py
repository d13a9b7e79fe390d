"""Writing items into a stream and reading the stream back, one module per stream kind.

Why per kind: a DynamoDB item is written with PutItem/UpdateItem/DeleteItem and comes back as an
INSERT/MODIFY/REMOVE record keyed by the table's key; a Kinesis record is written with PutRecord
and comes back as itself. The runner, the judge and the oracle only ever see `Write` and
`StreamRecord` (base.py), so adding a stream kind is adding a module to WRITERS.
"""

from __future__ import annotations

from harness.streams.base import (StreamAt, StreamItemError, StreamRecord, StreamWriter, Write, WriterFactory,
                                  pair_with_writes, read_shards)
from harness.streams.dynamodb import DynamoDBWriter
from harness.streams.kinesis import KinesisWriter

WRITERS: dict[str, WriterFactory] = {"dynamodb": DynamoDBWriter, "kinesis": KinesisWriter}


def writer_for(kind: str) -> WriterFactory:
    """The writer class of a stream kind; ValueError listing the kinds there are."""
    try:
        return WRITERS[kind]
    except KeyError:
        raise ValueError(f"no scenario writer for stream kind {kind!r}; known: {', '.join(sorted(WRITERS))}") from None


__all__ = ["WRITERS", "StreamAt", "StreamItemError", "StreamRecord", "StreamWriter", "Write", "pair_with_writes",
           "read_shards", "writer_for"]
