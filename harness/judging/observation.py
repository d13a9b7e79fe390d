"""What judging reads: one run as an operator could see it, with records as item indexes.

Why a model of its own: the judge, the conservation audit and a stack's own checks must see what
an operator could see on AWS (the stream, the on-failure destination, the failure handler's
invocations and alerts, ESM metrics), plus the journal that stands in for CloudTrail/CloudWatch
locally; never the engine's internal state, and never anything of the stack's domain. The local
runner (harness/scenarios/observe.py) and the AWS runner (harness/scenarios/remote.py) each fill it
from their own evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from harness.streams.base import StreamRecord


def report_batch_item_failures(mapping: Mapping[str, Any]) -> bool:
    """Whether the mapping (as the ESM API shows it) reads partial batch responses (spec 2.2)."""
    return "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])


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


__all__ = ["FailureObject", "Observation", "report_batch_item_failures"]
