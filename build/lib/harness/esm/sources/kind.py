"""What the engine needs to know about one kind of stream, in one object (spec 10: what differs).

The engine (reader, lanes, batcher, processor, destinations, simulate) never indexes a record
itself: it asks the mapping's StreamKind. A kind is chosen once per mapping from its
EventSourceArn (`harness.esm.sources.registry`), so the hot path pays one attribute lookup per
batch, not a branch per record. Accessors that run per record are plain functions with literal
keys (`seq`, `arrival`); those that run per batch take the whole list (`seqs`).

Adding a stream kind is writing one module that builds a StreamKind and adding it to
`registry.KINDS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

Record = dict[str, Any]


@dataclass(frozen=True, eq=False)
class StreamKind:
    # -- identity ----------------------------------------------------------------------------
    name: str  # "dynamodb" | "kinesis": simulate's `source`, the failure listing's column
    label: str  # "DynamoDB stream": for messages
    event_source: str  # the records' eventSource, e.g. "aws:kinesis"
    record_key: str  # the record's own sub-object: "dynamodb" | "kinesis"
    # -- mapping parameters (config.py) ---------------------------------------------------------
    arn_re: re.Pattern[str]  # EventSourceArn values this kind reads
    arn_shape: str  # the ARN shape, for error messages
    starting_positions: tuple[str, ...]
    stream_arn_of: Callable[[str], str]  # EventSourceArn -> the stream read (a consumer reads its stream)
    check_filter: Callable[[Any, str], None]  # a parsed filter pattern; raise EsmValidationError if refused
    # -- reading (service.py) -----------------------------------------------------------------
    client_service: str  # boto3 service name of the reading client
    poll_setting: str  # the EngineSettings field holding this kind's poll interval (spec 7.1, 10)
    default_poll_interval_s: float  # AWS's documented rate, used when EngineSettings has no such field
    open_source: Callable[..., Any]  # (client, stream_arn, region, *, invoke_identity_arn) -> StreamSource
    # -- record accessors (the hot path) -----------------------------------------------------
    seq: Callable[[Record], str]  # sequence number, a string of digits (compare as integers)
    seqs: Callable[[list[Record]], list[str]]
    arrival: Callable[[Record], float | None]  # epoch seconds the stream received it; None if unknown
    item_key: Callable[[Record], str]  # ParallelizationFactor lanes: one key keeps its order
    size_hint: Callable[[Record], int]  # about the record's payload bytes (a cheap batch-size estimate)
    filter_view: Callable[[Record], Any] | None  # what FilterCriteria patterns see; None: the record
    # -- the failure record (destinations.py) --------------------------------------------------
    batch_info_key: str  # "DDBStreamBatchInfo" | "KinesisBatchInfo"
    arrival_iso: Callable[[float], str]  # approximateArrivalOf*Record format


__all__ = ["Record", "StreamKind"]
