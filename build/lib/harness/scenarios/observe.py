"""Collect what a scenario run did, from the backend and the journal only.

Why this boundary: the judge must see what an operator could see on AWS (the stream, the on-failure
destination, the failure handler's invocations and alerts, ESM metrics), plus the journal that
stands in for CloudTrail/CloudWatch locally; never the engine's internal state, and never anything
of the stack's domain. Stream sequence numbers map to item indexes through the stream read back
(harness/scenarios/streams), so failure records and invocations are reported as item indexes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.failures import FailureStore
from harness.failures.model import FailureRecordError, parse_failure_record
from harness.journal import Journal
from harness.scenarios.streams import StreamRecord
from harness.scenarios.target import Target


@dataclass
class FailureObject:
    """One failure record at the destination (an S3 object, or an SQS/SNS message), reduced to
    what the checks compare."""

    key: str  # S3 key, or the message id
    records: list[int]  # item indexes, in payload (or sequence) order
    kind: str = "s3"  # "s3" | "sqs" | "sns"
    condition: str | None = None
    approximate_invoke_count: int | None = None
    function_error: str | None = None
    has_response_context: bool = False
    batch_size: int | None = None
    start_sequence: str | None = None
    end_sequence: str | None = None
    shard: str | None = None
    payload_is_string: bool = False
    error: str | None = None  # the object could not be parsed as an ESM failure record
    top_level_keys: list[str] = field(default_factory=list)  # as written, to check AWS's sorted order (S3)

    def summary(self) -> dict[str, Any]:
        return {"records": self.records, "condition": self.condition,
                "approximateInvokeCount": self.approximate_invoke_count, "functionError": self.function_error,
                "batchSize": self.batch_size}


@dataclass
class Observation:
    injected: list[dict[str, Any]]  # {"index", "key", "op", "item"} in write order
    stream: list[StreamRecord]  # in shard order (parents first)
    invocations: list[dict[str, Any]]  # consumer invocations, in order: records/failed as item indexes
    failure_objects: list[FailureObject]
    processed: list[int]
    filtered: list[int]
    dropped: list[dict[str, Any]]  # {"records", "condition", "reason"}
    destination_failures: int
    metrics: dict[str, float]
    mapping: dict[str, Any]  # the mapping as the ESM API shows it (GetEventSourceMapping)
    commits: list[int] = field(default_factory=list)  # item indexes in the order they were committed
    unmapped_sequences: list[str] = field(default_factory=list)  # seen in the journal, not in the stream
    unexplained_records: list[str] = field(default_factory=list)  # in the stream, written by no item
    notifications: list[dict[str, Any]] = field(default_factory=list)  # failure-handler deliveries (journal)
    alerts: list[dict[str, Any]] = field(default_factory=list)  # alert messages, as a subscriber sees them
    extra: dict[str, Any] = field(default_factory=dict)  # scenario hooks add facts here (replay results)

    @property
    def key_of(self) -> dict[int, str]:
        """Item index -> the item's key (canonical text), for messages that name records."""
        return {i["index"]: i["key"] for i in self.injected}

    def records_of(self, indexes: list[int]) -> list[dict[str, Any]]:
        """The Lambda-shaped stream records of these item indexes (first record of each)."""
        by_index = {s.index: s.record for s in self.stream if s.index is not None}
        return [by_index[i] for i in indexes if i in by_index]

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
            "metrics": self.metrics,
            "notifications": [{k: n.get(k) for k in ("key", "function", "result", "attempt")}
                              for n in self.notifications],
            "alerts": [_alert_summary(a) for a in self.alerts],
            **({"extra": self.extra} if self.extra else {}),
        }


def _alert_summary(alert: dict[str, Any]) -> dict[str, Any]:
    body = alert.get("body")
    if isinstance(body, dict):
        return {"channel": alert.get("channel"), **{k: body.get(k) for k in ("kind", "key", "condition", "archiveKey")
                                                    if k in body}}
    return {"channel": alert.get("channel"), "text": str(body)[:200]}


# -- subscribing before the run --------------------------------------------------------------------


INBOX_PREFIX = "harness-inbox-"


def subscribe_inbox(pipe: Any, topic_arn: str, name: str) -> str:
    """An SQS queue on an SNS topic, so a run sees what a subscriber would (raw delivery).

    Subscribe before writing anything: SNS does not keep messages for late subscribers.
    """
    sqs = pipe.backend.client("sqs")
    url = sqs.create_queue(QueueName=f"{INBOX_PREFIX}{name}"[:80])["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pipe.backend.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                                         Attributes={"RawMessageDelivery": "true"})
    return url


def subscribe_alert_inbox(pipe: Any, topic_arn: str | None = None) -> str:
    """The sample's alert inbox (its stack output AlertTopicArn unless a topic is given)."""
    return subscribe_inbox(pipe, topic_arn or pipe.output("AlertTopicArn"), "alerts")


@dataclass
class Inboxes:
    """Queues the judge reads: the SNS destination's, and one per alert topic."""

    destination: str | None = None  # queue URL: the SQS destination itself, or an inbox on the SNS destination
    alerts: dict[str, str] = field(default_factory=dict)  # channel (topic ARN / queue URL) -> queue URL


def subscribe_inboxes(pipe: Any, target: Target) -> Inboxes:
    inboxes = Inboxes()
    kind = target.destination_kind
    if kind == "sns":
        inboxes.destination = subscribe_inbox(pipe, target.destination_arn or "", "destination")
    elif kind == "sqs":
        inboxes.destination = _queue_url(pipe, target.destination_arn or "")
    for n, topic in enumerate(target.alert_topics):
        inboxes.alerts[topic] = subscribe_inbox(pipe, topic, f"alerts-{n}")
    for queue in target.alert_queues:
        inboxes.alerts[queue] = queue
    return inboxes


def _queue_url(pipe: Any, arn: str) -> str:
    _, _, _, _, account, name = arn.split(":", 5)
    return pipe.backend.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def drain_queue(pipe: Any, url: str) -> list[str]:
    """Every message body now in the queue (received and deleted: the run owns these queues)."""
    sqs = pipe.backend.client("sqs")
    bodies: list[str] = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not msgs:
            return bodies
        for m in msgs:
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def _json_or_text(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


# -- reading after the run ----------------------------------------------------------------------


def observe(pipe: Any, journal: Journal, target: Target, stream: list[StreamRecord], *,
            inboxes: Inboxes | None = None) -> Observation:
    """Read backend and journal after the pipeline settled."""
    injected = [{"index": e.get("index", n), "key": e.get("key"), "op": e.get("op"), "item": e.get("item")}
                for n, e in enumerate(journal.entries("injected"))]
    index_of = {s.seq: s.index for s in stream if s.index is not None}
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

    uuid = target.mapping_uuid
    invocations, processed, commits, filtered, dropped = [], [], [], [], []
    destination_failures = 0
    for e in journal.entries():
        if e.get("uuid") != uuid:
            continue
        kind = e["kind"]
        if kind == "invoke_result":
            committed = idx(e.get("committed_sequence_numbers"))
            invocations.append({"records": idx(e.get("sequence_numbers")), "outcome": e.get("outcome"),
                                "function_error": e.get("function_error"), "attempt": e.get("attempt"),
                                "failed": idx(e.get("failed_sequence_numbers")), "reason": e.get("reason"),
                                "response_has_batch_item_failures": e.get("response_has_batch_item_failures"),
                                "request_id": e.get("request_id"), "invocation_id": e.get("invocation_id")})
            processed.extend(committed)
            commits.extend(committed)
        elif kind == "filtered":
            filtered.extend(idx(e.get("sequence_numbers")))
        elif kind == "dropped":
            dropped.append({"records": idx(e.get("sequence_numbers")), "condition": e.get("condition"),
                            "reason": e.get("reason")})
        elif kind == "destination_failure":
            destination_failures += 1

    objects = _failure_objects(pipe, target, stream, idx, inboxes)
    keys = {o.key for o in objects}
    notifications = [{k: e.get(k) for k in ("bucket", "key", "function", "attempt", "result", "error")}
                     for e in journal.entries("notification") if e.get("key") in keys]
    alerts = []
    for channel, url in (inboxes.alerts if inboxes else {}).items():
        alerts.extend({"channel": channel, "body": _json_or_text(b)} for b in drain_queue(pipe, url))
    mapping = next((m for m in pipe.esm.list_event_source_mappings() if m["UUID"] == uuid), {})
    return Observation(
        injected=injected, stream=stream, invocations=invocations, failure_objects=objects,
        processed=sorted(processed), filtered=sorted(filtered), dropped=dropped,
        destination_failures=destination_failures, metrics=pipe.esm.metrics(uuid), mapping=mapping,
        commits=commits, unmapped_sequences=sorted(unmapped),
        unexplained_records=[f"{s.shard}:{s.seq} ({s.event} {s.key})" for s in stream if s.index is None],
        notifications=notifications, alerts=alerts)


def _failure_objects(pipe: Any, target: Target, stream: list[StreamRecord], idx: Any,
                     inboxes: Inboxes | None) -> list[FailureObject]:
    kind = target.destination_kind
    if kind == "s3":
        return _s3_objects(pipe, target.bucket or "", idx)
    if kind in ("sqs", "sns") and inboxes is not None and inboxes.destination:
        return [_message_object(m, n, kind, stream) for n, m in enumerate(drain_queue(pipe, inboxes.destination))]
    return []


def _s3_objects(pipe: Any, bucket: str, idx: Any) -> list[FailureObject]:
    store = FailureStore(pipe.backend.client("s3"), bucket)
    objects = []
    for listed in store.list():
        if listed.record is None:
            objects.append(FailureObject(key=listed.key, records=[], error=listed.error))
            continue
        rec = listed.record
        objects.append(_from_record(listed.key, "s3", rec, idx(rec.sequence_numbers)))
        body = store.read_body(listed.key)
        objects[-1].top_level_keys = list(json.loads(body))
        objects[-1].payload_is_string = isinstance(rec.envelope.payload, str) and not rec.payload_was_object
    return objects


def _from_record(key: str, kind: str, rec: Any, records: list[int]) -> FailureObject:
    env = rec.envelope
    info = env.batch_info
    return FailureObject(
        key=key, records=records, kind=kind, condition=rec.condition,
        approximate_invoke_count=env.requestContext.approximateInvokeCount,
        function_error=env.responseContext.functionError if env.responseContext else None,
        has_response_context=env.responseContext is not None, batch_size=info.batchSize,
        start_sequence=info.startSequenceNumber, end_sequence=info.endSequenceNumber, shard=info.shardId)


def _message_object(body: str, n: int, kind: str, stream: list[StreamRecord]) -> FailureObject:
    """An SQS/SNS failure record holds no records (spec 3.4): its items are the shard's records
    from startSequenceNumber to endSequenceNumber, read back from the stream."""
    try:
        rec = parse_failure_record(body)
    except FailureRecordError as exc:
        return FailureObject(key=f"message-{n}", records=[], kind=kind, error=str(exc))
    obj = _from_record(f"message-{n}", kind, rec, [])
    lo, hi = int(obj.start_sequence or 0), int(obj.end_sequence or 0)
    obj.records = [s.index for s in stream
                   if s.shard == obj.shard and s.index is not None and lo <= int(s.seq) <= hi]
    return obj
