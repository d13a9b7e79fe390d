"""Collect what a scenario run did, from the backend and the journal only.

Why this boundary: the judge must see what an operator could see on AWS (the stream, the
failure bucket, the projection table, the function's logs, ESM metrics), plus the journal that
stands in for CloudTrail/CloudWatch locally; never the engine's internal state.
Stream sequence numbers are mapped to item keys by reading the stream from the backend, and
item keys to injection indexes from the journal's `injected` entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from harness.failures import FailureStore
from harness.journal import Journal

_DESER = TypeDeserializer()


@dataclass
class FailureObject:
    """One object in the failure bucket, reduced to what the checks compare."""

    key: str
    records: list[int]  # injection indexes, in payload order
    condition: str | None = None
    approximate_invoke_count: int | None = None
    function_error: str | None = None
    has_response_context: bool = False
    batch_size: int | None = None
    start_sequence: str | None = None
    end_sequence: str | None = None
    payload_is_string: bool = False
    error: str | None = None  # the object could not be parsed as an ESM failure record
    top_level_keys: list[str] = field(default_factory=list)  # as written, to check AWS's sorted order

    def summary(self) -> dict[str, Any]:
        return {"records": self.records, "condition": self.condition,
                "approximateInvokeCount": self.approximate_invoke_count, "functionError": self.function_error,
                "batchSize": self.batch_size}


@dataclass
class Observation:
    injected: list[dict[str, Any]]  # {"index", "pk", "item"} in injection order
    stream: list[dict[str, Any]]  # {"seq", "pk", "index", "arrival"} in shard order
    invocations: list[dict[str, Any]]  # consumer invocations, in order
    failure_objects: list[FailureObject]
    processed: list[int]
    filtered: list[int]
    dropped: list[dict[str, Any]]  # {"records", "condition", "reason"}
    destination_failures: int
    projected: dict[str, dict[str, Any]]
    projection_log: list[dict[str, Any]]  # consumer log lines with outcome "projected", in order
    metrics: dict[str, float]
    mapping: dict[str, Any]
    unmapped_sequences: list[str] = field(default_factory=list)  # seen in the journal, not in the stream
    alerts: list[dict[str, Any]] = field(default_factory=list)  # failure-handler SNS messages, as a subscriber sees them
    archive_keys: list[str] = field(default_factory=list)  # what the failure handler archived
    extra: dict[str, Any] = field(default_factory=dict)  # scenario hooks add facts here (replay results)

    @property
    def pk_of(self) -> dict[int, str]:
        return {i["index"]: i["pk"] for i in self.injected}

    def index_of_pk(self, pk: str) -> int | None:
        for i in self.injected:
            if i["pk"] == pk:
                return i["index"]
        return None

    def summary(self) -> dict[str, Any]:
        """The JSON `observed` block of a scenario result."""
        return {
            "invocations": [{"records": i["records"], "outcome": i["outcome"], "function_error": i["function_error"]}
                            for i in self.invocations],
            "destination": [o.summary() for o in self.failure_objects],
            "failure_object_keys": [o.key for o in self.failure_objects],
            "processed": self.processed,
            "filtered": self.filtered,
            "dropped": self.dropped,
            "destination_delivery_failures": self.destination_failures,
            "projected": sorted(p for p in self.projected),
            "metrics": self.metrics,
            "alerts": [{k: a.get(k) for k in ("kind", "key", "condition", "archiveKey")} for a in self.alerts],
            "archive_keys": self.archive_keys,
            **({"extra": self.extra} if self.extra else {}),
        }


def read_stream(pipe: Any) -> list[dict[str, Any]]:
    """Every record of the source table's stream, in shard order (parents before children)."""
    client = pipe.backend.client("dynamodbstreams")
    arn = pipe.output("SourceTableStreamArn")
    shards: list[dict[str, Any]] = []
    params: dict[str, Any] = {"StreamArn": arn}
    while True:
        desc = client.describe_stream(**params)["StreamDescription"]
        shards.extend(desc.get("Shards", []))
        last = desc.get("LastEvaluatedShardId")
        if not last:
            break
        params["ExclusiveStartShardId"] = last
    out: list[dict[str, Any]] = []
    for shard in shards:
        it = client.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            page = client.get_records(ShardIterator=it, Limit=1000)
            for r in page.get("Records", []):
                ddb = r["dynamodb"]
                pk = (ddb.get("Keys", {}).get("pk") or {}).get("S")
                created = ddb.get("ApproximateCreationDateTime")
                arrival = int(created.timestamp()) if hasattr(created, "timestamp") else int(created or 0)
                out.append({"seq": ddb["SequenceNumber"], "pk": pk, "arrival": arrival, "shard": shard["ShardId"],
                            "event": r.get("eventName")})
            if not page.get("Records") or "NextShardIterator" not in page:
                break
            it = page["NextShardIterator"]
    return out


ALERT_INBOX = "harness-alert-inbox"


def subscribe_alert_inbox(pipe: Any) -> str:
    """An SQS queue on the stack's alert topic, so a run sees alerts as a subscriber would.

    Subscribe before injecting: SNS does not keep messages for late subscribers.
    """
    sqs = pipe.backend.client("sqs")
    url = sqs.create_queue(QueueName=ALERT_INBOX)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pipe.backend.client("sns").subscribe(TopicArn=pipe.output("AlertTopicArn"), Protocol="sqs", Endpoint=arn,
                                         Attributes={"RawMessageDelivery": "true"})
    return url


def _drain_inbox(pipe: Any, url: str) -> list[dict[str, Any]]:
    sqs = pipe.backend.client("sqs")
    alerts: list[dict[str, Any]] = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not msgs:
            return alerts
        for m in msgs:
            try:
                body = json.loads(m["Body"])
            except ValueError:
                body = {"unparsed": m["Body"]}
            alerts.append(body if isinstance(body, dict) else {"unparsed": body})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def observe(pipe: Any, journal: Journal, *, consumer: str | None = None,
            alert_inbox_url: str | None = None) -> Observation:
    """Read backend and journal after the pipeline settled."""
    injected = [{"index": n, "pk": e["pk"], "item": e.get("item")} for n, e in enumerate(journal.entries("injected"))]
    index_by_pk = {i["pk"]: i["index"] for i in injected}
    stream = read_stream(pipe)
    for s in stream:
        s["index"] = index_by_pk.get(s["pk"])
    index_of = {s["seq"]: s["index"] for s in stream}
    unmapped: set[str] = set()

    def idx(seqs: list[str] | None) -> list[int]:
        out = []
        for q in seqs or ():
            i = index_of.get(q)
            if i is None:
                unmapped.add(q)
            else:
                out.append(i)
        return out

    mapping_uuid = pipe.output("EventSourceMappingId")
    consumer = consumer or pipe.output("ConsumerFunctionName")
    invocations, processed, filtered, dropped = [], [], [], []
    destination_failures = 0
    for e in journal.entries():
        if e.get("uuid") not in (None, mapping_uuid):
            continue
        kind = e["kind"]
        if kind == "invoke_result":
            invocations.append({"records": idx(e.get("sequence_numbers")), "outcome": e.get("outcome"),
                                "function_error": e.get("function_error"), "attempt": e.get("attempt"),
                                "request_id": e.get("request_id"), "invocation_id": e.get("invocation_id")})
            processed.extend(idx(e.get("committed_sequence_numbers")))
        elif kind == "filtered":
            filtered.extend(idx(e.get("sequence_numbers")))
        elif kind == "dropped":
            dropped.append({"records": idx(e.get("sequence_numbers")), "condition": e.get("condition"),
                            "reason": e.get("reason")})
        elif kind == "destination_failure":
            destination_failures += 1

    bucket = pipe.output("FailureBucketName")
    store = FailureStore(pipe.backend.client("s3"), bucket)
    objects = []
    for listed in store.list():
        if listed.record is None:
            objects.append(FailureObject(key=listed.key, records=[], error=listed.error))
            continue
        rec = listed.record
        env = rec.envelope
        info = env.DDBStreamBatchInfo
        objects.append(FailureObject(
            key=listed.key, records=idx(rec.sequence_numbers), condition=rec.condition,
            approximate_invoke_count=env.requestContext.approximateInvokeCount,
            function_error=env.responseContext.functionError if env.responseContext else None,
            has_response_context=env.responseContext is not None, batch_size=info.batchSize,
            start_sequence=info.startSequenceNumber, end_sequence=info.endSequenceNumber,
            payload_is_string=isinstance(env.payload, str) and not rec.payload_was_object,
            top_level_keys=list(json.loads(store.read_body(listed.key)))))
    archive_keys = sorted(o["Key"] for o in store.iter_keys("archive/"))

    ddb = pipe.backend.client("dynamodb")
    projected: dict[str, dict[str, Any]] = {}
    for page in ddb.get_paginator("scan").paginate(TableName=pipe.output("ProjectionTableName")):
        for item in page["Items"]:
            plain = {k: _DESER.deserialize(v) for k, v in item.items()}
            projected[str(plain["pk"])] = plain

    projection_log = []
    for e in journal.entries("function_log", function=consumer):
        try:
            line = json.loads(e.get("line", ""))
        except (TypeError, ValueError):
            continue
        if isinstance(line, dict) and line.get("event") == "record" and line.get("outcome") == "projected":
            projection_log.append({"pk": line.get("pk"), "seq": line.get("sequenceNumber"),
                                   "replay": bool(line.get("replayOf"))})

    mapping = next((m for m in pipe.esm.list_event_source_mappings() if m["UUID"] == mapping_uuid), {})
    return Observation(
        injected=injected, stream=stream, invocations=invocations, failure_objects=objects,
        processed=sorted(processed), filtered=sorted(filtered), dropped=dropped,
        destination_failures=destination_failures, projected=projected, projection_log=projection_log,
        metrics=pipe.esm.metrics(mapping_uuid), mapping=mapping, unmapped_sequences=sorted(unmapped),
        alerts=_drain_inbox(pipe, alert_inbox_url) if alert_inbox_url else [], archive_keys=archive_keys)
