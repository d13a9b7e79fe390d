"""The records an SQS/SNS failure record points at, read back from the stream (spec 3.4, 8, 10).

An SQS or SNS on-failure destination receives the envelope only: the shard and the first and last
sequence numbers of the failed batch (`DDBStreamBatchInfo` / `KinesisBatchInfo`). The records
themselves stay in the stream until its retention ends (24 h for DynamoDB Streams; the stream's
`RetentionPeriodHours` for Kinesis, 24 h by default), and AWS's advice is to read them back from
there. Past retention they are gone: the error names the shard, the sequence range and the batch
size, so an operator knows exactly which records are lost.

Why both a clock check and a read check: a shard trimmed on AWS may answer with the records that
remain (a later start) instead of an error, and a backend that never trims (moto) answers with
every record however old; the arrival time against the retention decides the first case early,
and comparing what was read with the envelope (first, last sequence number, batch size) catches
every other gap.
"""

from __future__ import annotations

import time
from dataclasses import replace as dc_replace
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from harness.esm.records import normalise as normalise_dynamodb
from harness.esm.sources.kinesis import normalise as normalise_kinesis
from harness.esm.sources.kinesis import stand_in_role
from harness.failures.checks import envelope_time
from harness.failures.model import FailureRecord
from harness.failures.store import Listed

DYNAMODB_RETENTION_S = 24 * 3600.0  # fixed by DynamoDB Streams (spec 8)
KINESIS_DEFAULT_RETENTION_S = 24 * 3600.0
_MAX_PAGES = 1000
_EMPTY_PAGES = 3  # an open shard at its tip answers with empty pages and a next iterator


class RecordsUnavailable(RuntimeError):
    """The failed records cannot be read back from the stream; the message names them."""


def _describe(record: FailureRecord, key: str) -> str:
    info = record.envelope.batch_info
    first, last = info.startSequenceNumber, info.endSequenceNumber
    span = first if first == last else f"{first}..{last}"
    return (f"failure record {key}: the {info.batchSize} record(s) of shard {info.shardId} with sequence "
            f"numbers {span} ({info.streamArn})")


def retention_s(record: FailureRecord, client: Any) -> float:
    """How long the record's stream keeps records: 24 h for DynamoDB, the stream's setting for Kinesis."""
    if record.source != "kinesis":
        return DYNAMODB_RETENTION_S
    try:
        summary = client.describe_stream_summary(StreamARN=record.envelope.batch_info.streamArn)
        return float(summary["StreamDescriptionSummary"]["RetentionPeriodHours"]) * 3600.0
    except (ClientError, BotoCoreError, KeyError, TypeError, ValueError):
        return KINESIS_DEFAULT_RETENTION_S


def read_back(record: FailureRecord, key: str, client: Any, *, now: float | None = None) -> list[dict[str, Any]]:
    """The failed records, as Lambda delivered them, from the stream; RecordsUnavailable otherwise.

    `client` is a `dynamodbstreams` client for a DynamoDB record, a `kinesis` client for a Kinesis one.
    """
    info = record.envelope.batch_info
    what = _describe(record, key)
    now = time.time() if now is None else now
    keep = retention_s(record, client)
    arrived = envelope_time(info.approximateArrivalOfFirstRecord)
    if arrived is not None and now - arrived.timestamp() > keep:
        hours = (now - arrived.timestamp()) / 3600.0
        raise RecordsUnavailable(
            f"{what} arrived {hours:.1f} h ago, past the stream's retention of {keep / 3600:.0f} h: they are trimmed "
            "and cannot be replayed (only an S3 destination keeps the records themselves, spec 3.4)")
    region = info.streamArn.split(":")[3]
    try:
        raw = _read_range(record.source, client, info.streamArn, info.shardId, info.startSequenceNumber,
                          info.endSequenceNumber)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("TrimmedDataAccessException", "ExpiredIteratorException"):
            raise RecordsUnavailable(f"{what} are past the stream's retention (trimmed): {code}") from None
        raise RecordsUnavailable(f"{what} cannot be read back from the stream: {code} "
                                 f"{exc.response.get('Error', {}).get('Message', '')}".rstrip()) from None
    except BotoCoreError as exc:
        raise RecordsUnavailable(f"{what} cannot be read back from the stream: {exc}") from None
    if record.source == "kinesis":
        role = stand_in_role(info.streamArn.split(":")[4])
        records = [normalise_kinesis(r, shard_id=info.shardId, stream_arn=info.streamArn, region=region,
                                     invoke_identity_arn=role) for r in raw]
        seqs = [r["kinesis"]["sequenceNumber"] for r in records]
    else:
        records = [normalise_dynamodb(r, info.streamArn, region) for r in raw]
        seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    if not seqs or seqs[0] != info.startSequenceNumber or seqs[-1] != info.endSequenceNumber \
            or len(seqs) != info.batchSize:
        found = f"found {len(seqs)}" + (f" ({seqs[0]}..{seqs[-1]})" if seqs else "")
        raise RecordsUnavailable(f"{what} are no longer all in the stream ({found}): past its retention, or the "
                                 "shard is gone; they cannot be replayed")
    return records


def _read_range(kind: str, client: Any, stream_arn: str, shard: str, first: str, last: str) -> list[dict[str, Any]]:
    """GetRecords from `first` until a record past `last`, the shard's end, or its tip."""
    if kind == "kinesis":
        iterator = client.get_shard_iterator(StreamARN=stream_arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                             StartingSequenceNumber=first)["ShardIterator"]

        def page(it: str) -> dict[str, Any]:
            return client.get_records(ShardIterator=it, StreamARN=stream_arn, Limit=1000)
    else:
        iterator = client.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                             SequenceNumber=first)["ShardIterator"]

        def page(it: str) -> dict[str, Any]:
            return client.get_records(ShardIterator=it, Limit=1000)
    seq_of: Callable[[dict[str, Any]], int] = (
        (lambda r: int(r["SequenceNumber"])) if kind == "kinesis" else (lambda r: int(r["dynamodb"]["SequenceNumber"])))
    end = int(last)
    out: list[dict[str, Any]] = []
    empty = 0
    for _ in range(_MAX_PAGES):
        if not iterator:
            break
        resp = page(iterator)
        got = resp.get("Records", [])
        for r in got:
            if seq_of(r) > end:
                return out
            out.append(r)
        if out and seq_of(out[-1]) == end:
            return out
        empty = empty + 1 if not got else 0
        if empty >= _EMPTY_PAGES:
            break
        iterator = resp.get("NextShardIterator")
    return out


def with_records(item: Listed, client_for: Callable[[str], Any], *, now: float | None = None) -> Listed:
    """`item` with its stream records filled in; or, past retention, with `unavailable` saying which."""
    rec = item.record
    if rec is None or rec.records:
        return item  # malformed, or an S3 record that carries its payload
    client = client_for("kinesis" if rec.source == "kinesis" else "dynamodbstreams")
    try:
        records = read_back(rec, item.key, client, now=now)
    except RecordsUnavailable as exc:
        return dc_replace(item, unavailable=str(exc))
    return dc_replace(item, record=rec.model_copy(update={"records": records}))


__all__ = ["DYNAMODB_RETENTION_S", "RecordsUnavailable", "read_back", "retention_s", "with_records"]
