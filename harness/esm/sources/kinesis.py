"""Kinesis Data Streams: the boto3 source (ListShards, GetShardIterator, GetRecords), the record
Lambda delivers, and the StreamKind that tells the engine how to read it (`KINESIS`). Spec 10.

The record (spec 10, DOC with-kinesis), key order as in AWS's example:
    {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey", "sequenceNumber", "data" (base64),
                 "approximateArrivalTimestamp" (epoch seconds with a millisecond fraction)},
     "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "<shardId>:<sequenceNumber>",
     "eventName": "aws:kinesis:record", "invokeIdentityArn", "awsRegion", "eventSourceARN"}

- `invokeIdentityArn` is the function's execution role. The engine learns it from the caller
  (EsmService's `role_of`); when nobody can say, it is the stand-in `stand_in_role(account)`,
  `arn:aws:iam::<account>:role/harness-stand-in-execution-role`, so a consumer that logs it shows
  plainly that it is not a real role.
- Sequence numbers are compared as integers: AWS's have about 56 digits, moto's are "1", "2"...
  per shard.
- A mapping on a stream consumer (enhanced fan-out) ARN reads the consumer's stream; AWS documents
  no failure-handling difference [GAP], so the engine polls the stream as for a plain mapping,
  and the records' eventSourceARN and the failure record's streamArn are the stream's ARN.
- Filtering (DOC with-kinesis-filtering, invocation-eventfiltering): patterns may only name the
  `data` key, holding a JSON object pattern; filters see `{"data": <data decoded as JSON>}`; a
  record whose data is not JSON matches no data pattern and is filtered out ("Lambda drops the
  record").
- End of a closed shard: AWS returns no NextShardIterator once a closed shard is read to its
  end. moto never does, so a closed shard is also finished once the reader is past its
  EndingSequenceNumber (ListShards), or it is closed and empty, or was opened at LATEST.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import re
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from harness.esm.errors import EsmValidationError
from harness.esm.isotime import iso_millis
from harness.esm.sources import ShardInfo
from harness.esm.sources.cursor import IteratorCursor, StreamReadError
from harness.esm.sources.kind import Record, StreamKind

_NAME = r"[A-Za-z0-9_.-]{1,128}"
STREAM_ARN_RE = re.compile(rf"^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{{12}}:stream/{_NAME}$")
# AWS's consumer ARNs end in `:<creation epoch>`; moto's RegisterStreamConsumer leaves it out, and
# the embedded backend must be able to map its own consumers, so the suffix is optional here.
CONSUMER_ARN_RE = re.compile(rf"^(arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{{12}}:stream/{_NAME})/consumer/{_NAME}(:\d+)?$")
ARN_RE = re.compile(f"{STREAM_ARN_RE.pattern}|{CONSUMER_ARN_RE.pattern}")
SCHEMA_VERSION = "1.0"
EVENT_VERSION = "1.0"
EVENT_NAME = "aws:kinesis:record"
EVENT_SOURCE = "aws:kinesis"
MAX_GET_RECORDS = 10000  # the GetRecords Limit maximum
MAX_PARTITION_KEY = 256  # PutRecord's PartitionKey: 1 to 256 Unicode characters
STAND_IN_ROLE = "harness-stand-in-execution-role"


def stand_in_role(account_id: str) -> str:
    """invokeIdentityArn when the function's execution role is not known (see the module doc)."""
    return f"arn:aws:iam::{account_id}:role/{STAND_IN_ROLE}"


def stream_arn_of(event_source_arn: str) -> str:
    """A consumer ARN `…:stream/<s>/consumer/<c>:<epoch>` reads `…:stream/<s>` (spec 10)."""
    m = CONSUMER_ARN_RE.match(event_source_arn)
    return m.group(1) if m else event_source_arn


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):  # YAML/JSON scenario files read numbers as Decimals
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def data_bytes(value: Any) -> bytes:
    """The bytes a record carries for a `data` value (simulate's records, a scenario's items): a
    string as its UTF-8 bytes, any other JSON value as its JSON text, as a JSON producer sends it."""
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, default=_json_number, separators=(",", ":")).encode("utf-8")


def encode_data(value: Any) -> str:
    """`data_bytes`, base64-encoded, as the record Lambda delivers carries it."""
    return base64.b64encode(data_bytes(value)).decode("ascii")


def arrival_seconds(value: Any) -> float:
    """approximateArrivalTimestamp as Lambda sends it: epoch seconds, millisecond precision."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)  # moto's utcnow() is naive UTC
        return round(value.timestamp(), 3)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(float(value), 3)
    raise ValueError(f"ApproximateArrivalTimestamp {value!r} is not a time")


def make_record(*, sequence_number: str, arrival_s: float, partition_key: str, data_b64: str, shard_id: str,
                stream_arn: str, region: str, invoke_identity_arn: str) -> Record:
    """The Lambda event record, keys in AWS's order (spec 10)."""
    return {
        "kinesis": {"kinesisSchemaVersion": SCHEMA_VERSION, "partitionKey": partition_key,
                    "sequenceNumber": sequence_number, "data": data_b64,
                    "approximateArrivalTimestamp": round(arrival_s, 3)},
        "eventSource": EVENT_SOURCE,
        "eventVersion": EVENT_VERSION,
        "eventID": f"{shard_id}:{sequence_number}",
        "eventName": EVENT_NAME,
        "invokeIdentityArn": invoke_identity_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def normalise(raw: dict[str, Any], *, shard_id: str, stream_arn: str, region: str, invoke_identity_arn: str) -> Record:
    """A GetRecords record (Data as bytes, a datetime arrival) -> the Lambda event record."""
    if "SequenceNumber" not in raw:
        raise ValueError(f"Kinesis record of shard {shard_id} has no SequenceNumber")
    data = raw.get("Data", b"")
    if isinstance(data, str):
        data = data.encode()
    return make_record(sequence_number=str(raw["SequenceNumber"]),
                       arrival_s=arrival_seconds(raw["ApproximateArrivalTimestamp"]),
                       partition_key=raw.get("PartitionKey", ""), data_b64=base64.b64encode(data).decode("ascii"),
                       shard_id=shard_id, stream_arn=stream_arn, region=region,
                       invoke_identity_arn=invoke_identity_arn)


# -- record accessors: the hot path, literal keys ---------------------------------------------

def seq(record: Record) -> str:
    return record["kinesis"]["sequenceNumber"]


def seqs(records: list[Record]) -> list[str]:
    return [r["kinesis"]["sequenceNumber"] for r in records]


def arrival(record: Record) -> float | None:
    return record["kinesis"].get("approximateArrivalTimestamp")


def item_key(record: Record) -> str:
    """ParallelizationFactor lanes keep order per partition key (AWS: "in-order processing at the
    partition-key level" for Kinesis)."""
    return record["kinesis"]["partitionKey"]


def size_hint(record: Record) -> int:
    return len(record["kinesis"]["data"]) + len(record["kinesis"]["partitionKey"])


def filter_view(record: Record) -> Any:
    """What a filter pattern sees: `{"data": <data as JSON>}`; None (matches nothing) when the
    data is not JSON (invocation-eventfiltering: "Non-JSON data, valid JSON pattern: Lambda drops
    the record")."""
    try:
        return {"data": json.loads(base64.b64decode(record["kinesis"]["data"], validate=True))}
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def check_filter(pattern: Any, where: str) -> None:
    """Spec 10: "Kinesis event source mappings only support filtering on the data key", and the
    pattern for data properties must be JSON (an object of field patterns)."""
    keys = sorted(pattern) if isinstance(pattern, dict) else []
    if keys != ["data"]:
        others = ", ".join(k for k in keys if k != "data") or "(none)"
        raise EsmValidationError(
            f"InvalidParameterValueException: Invalid filter pattern definition. {where}: Kinesis event source "
            f"mappings only support filtering on the data key; the pattern names {others} (spec 10)")
    if not isinstance(pattern["data"], dict):
        raise EsmValidationError(
            f"InvalidParameterValueException: Invalid filter pattern definition. {where}.data: the filter for "
            "Kinesis data properties must be a JSON object of field patterns, e.g. {\"data\": {\"type\": [\"buy\"]}}")


# -- the boto3 source -------------------------------------------------------------------------

class KinesisStreamSource:
    """One Kinesis stream through any boto3 'kinesis' client. Keeps the last shard listing, so
    cursors know which shards are closed and where they end without extra calls."""

    def __init__(self, client: Any, stream_arn: str, region: str = "us-east-1", *,
                 invoke_identity_arn: str | None = None) -> None:
        self.client = client
        self.stream_arn = stream_arn_of(stream_arn)
        self.region = region
        self.invoke_identity_arn = invoke_identity_arn or stand_in_role(self.stream_arn.split(":")[4])
        self._known: dict[str, ShardInfo] = {}

    def list_shards(self) -> list[ShardInfo]:
        shards: list[ShardInfo] = []
        kwargs: dict[str, Any] = {"StreamARN": self.stream_arn}
        while True:
            try:
                resp = self.client.list_shards(**kwargs)
            except ClientError as exc:
                raise StreamReadError(f"ListShards {self.stream_arn}: {exc}") from exc
            for s in resp.get("Shards", []):
                rng = s.get("SequenceNumberRange", {})
                shards.append(ShardInfo(s["ShardId"], s.get("ParentShardId"), "EndingSequenceNumber" in rng,
                                        adjacent_parent_shard_id=s.get("AdjacentParentShardId"),
                                        starting_sequence=rng.get("StartingSequenceNumber"),
                                        ending_sequence=rng.get("EndingSequenceNumber")))
            token = resp.get("NextToken")
            if not token:
                break
            kwargs = {"NextToken": token}  # the API refuses the stream together with NextToken
        self._known = {s.shard_id: s for s in shards}
        return shards

    def shard_info(self, shard_id: str) -> ShardInfo | None:
        """The shard as last listed (listing once if it was never seen)."""
        if shard_id not in self._known:
            self.list_shards()
        return self._known.get(shard_id)

    def open(self, shard_id: str, *, starting_position: str, after_sequence: str | None = None,
             timestamp: float | None = None) -> "KinesisShardCursor":
        if starting_position == "AT_TIMESTAMP" and after_sequence is None and timestamp is None:
            raise ValueError(f"shard {shard_id}: AT_TIMESTAMP needs a timestamp")
        return KinesisShardCursor(self, shard_id, starting_position, after_sequence, timestamp)


class KinesisShardCursor(IteratorCursor):
    """A Kinesis shard; its iterator expires after 5 minutes on AWS. Read throughput is shared per
    shard, so a throttled GetRecords is polled again later."""

    page_limit = MAX_GET_RECORDS
    retry_codes = ("ProvisionedThroughputExceededException", "KMSThrottlingException")

    def __init__(self, source: KinesisStreamSource, shard_id: str, starting_position: str, after: str | None,
                 timestamp: float | None) -> None:
        super().__init__(source, shard_id, starting_position, after)
        self._timestamp = timestamp

    def _iterator_request(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"StreamARN": self._src.stream_arn, "ShardId": self._shard_id}
        if self._last_seq is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=self._last_seq)
        elif self._start == "AT_TIMESTAMP":
            kwargs.update(ShardIteratorType="AT_TIMESTAMP",
                          Timestamp=dt.datetime.fromtimestamp(self._timestamp or 0.0, dt.timezone.utc))
        else:
            kwargs["ShardIteratorType"] = self._start
        return kwargs

    def _get_records(self, iterator: str, limit: int) -> dict[str, Any]:
        # StreamARN as well: moto's iterator does not name the stream when it was made by ARN.
        page = self._src.client.get_records(ShardIterator=iterator, StreamARN=self._src.stream_arn, Limit=limit)
        if self._last_seq is None and self._start == "AT_TIMESTAMP" and self._timestamp is not None:
            # botocore before 1.41 sends the iterator's Timestamp in whole seconds, so the iterator may
            # start up to a second early; AWS starts at the first record at or after the timestamp, to
            # the millisecond (spec 10), and so does this, whichever botocore a team has.
            since = math.floor(self._timestamp * 1000) / 1000
            page["Records"] = [r for r in page.get("Records", [])
                               if arrival_seconds(r["ApproximateArrivalTimestamp"]) >= since]
        return page

    def _normalise(self, raw: dict[str, Any]) -> Record:
        src = self._src
        return normalise(raw, shard_id=self._shard_id, stream_arn=src.stream_arn, region=src.region,
                         invoke_identity_arn=src.invoke_identity_arn)

    def _sequence_number(self, record: Record) -> str:
        return record["kinesis"]["sequenceNumber"]

    def _ended(self, next_iterator: str | None, got: bool) -> bool:
        return next_iterator is None or self._past_end(got)

    def _past_end(self, got: bool) -> bool:
        """A closed shard read to its end, for backends that never end the iterator (moto)."""
        info = self._src.shard_info(self._shard_id) if not got else self._src._known.get(self._shard_id)
        if info is None or not info.closed or info.ending_sequence is None:
            return False
        end = int(info.ending_sequence)
        if self._last_seq is not None:
            return int(self._last_seq) >= end
        if got:
            return False
        return self._start == "LATEST" or end <= int(info.starting_sequence or 0)


def _open(client: Any, stream_arn: str, region: str, *, invoke_identity_arn: str | None = None,
          **_: Any) -> KinesisStreamSource:
    return KinesisStreamSource(client, stream_arn, region, invoke_identity_arn=invoke_identity_arn)


KINESIS = StreamKind(
    name="kinesis", label="Kinesis stream", event_source=EVENT_SOURCE, record_key="kinesis",
    arn_re=ARN_RE, arn_shape="arn:aws:kinesis:<region>:<account>:stream/<name>[/consumer/<consumer>:<epoch>]",
    starting_positions=("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"), stream_arn_of=stream_arn_of,
    check_filter=check_filter, client_service="kinesis", poll_setting="kinesis_poll_interval_s",
    default_poll_interval_s=1.0, open_source=_open,
    seq=seq, seqs=seqs, arrival=arrival, item_key=item_key, size_hint=size_hint, filter_view=filter_view,
    batch_info_key="KinesisBatchInfo", arrival_iso=iso_millis,
)
