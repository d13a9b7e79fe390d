"""`harness demo`: the walking skeleton, end to end, on the embedded backend.

Synthesize and deploy the real stack, write good orders and one poison order, let the pipeline
run, then judge from the backend's state and the journal (never from engine internals) that AWS's
failure handling happened: bisect isolated the poison, the S3 failure record has AWS's key and
envelope, the failure handler alerted and archived, and every good order was projected.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from rich.console import Console

from harness.failures import FailureRecordError, parse_failure_record
from harness.injector import orders
from harness.pipeline import PROJECT_ROOT, LocalPipeline
from harness.verdict import Check, check, render

DEMO_CONTEXT: dict[str, object] = {
    "batchSize": 10,
    "retryAttempts": 2,
    "bisect": True,
    "reportBatchItemFailures": False,
}
GOOD_COUNT = 9
POISON_INDEX = 4


@dataclass
class DemoResult:
    checks: list[Check]
    wall_s: float
    report_dir: Path
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)


def run_demo(*, report_dir: Path | None = None, console: Console | None = None, timeout: float = 120.0) -> DemoResult:
    console = console or Console()
    report_dir = report_dir or PROJECT_ROOT / "reports" / "demo"
    report_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    journal_path = report_dir / "journal.jsonl"
    journal_path.unlink(missing_ok=True)
    with LocalPipeline("embedded", journal_path=journal_path, progress=lambda m: console.log(m)) as pipe:
        pipe.deploy(DEMO_CONTEXT)
        inbox_url = _subscribe_alert_inbox(pipe)
        items = orders(GOOD_COUNT + 1, poison=[POISON_INDEX])
        console.log(f"injecting {len(items)} orders, order {POISON_INDEX} is poison (negative amount)")
        pipe.inject(items)
        console.log("waiting for the ESM and the failure handler to settle (deadline, not a sleep)")
        pipe.settle(timeout=timeout)
        facts = _observe(pipe, inbox_url)
        checks = _judge(facts, poison_pk=items[POISON_INDEX]["pk"], good_pks=[i["pk"] for i in items if i["pk"] != items[POISON_INDEX]["pk"]],
                        injected=len(items))
    result = DemoResult(checks, time.perf_counter() - began, report_dir, facts)
    render(checks, f"harness demo: walking skeleton on the embedded backend ({result.wall_s:.1f}s)", console)
    (report_dir / "summary.json").write_text(
        json.dumps({"passed": result.passed, "wall_s": round(result.wall_s, 2),
                    "checks": [c.as_dict() for c in checks]}, indent=2, default=str)
    )
    console.print(f"report: {report_dir / 'summary.json'}  journal: {journal_path}")
    return result


def _subscribe_alert_inbox(pipe: LocalPipeline) -> str:
    """An SQS queue on the alert topic, so the demo can see alerts as a subscriber would."""
    sqs = pipe.backend.client("sqs")
    url = sqs.create_queue(QueueName="harness-alert-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pipe.backend.client("sns").subscribe(
        TopicArn=pipe.output("AlertTopicArn"), Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    return url


def _observe(pipe: LocalPipeline, inbox_url: str) -> dict[str, Any]:
    s3 = pipe.backend.client("s3")
    bucket = pipe.output("FailureBucketName")
    failure_objects = []
    for key in _keys(s3, bucket, "aws/lambda/"):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        raw = json.loads(body)
        try:
            parsed = parse_failure_record(body, key=key)
            error = None
        except FailureRecordError as exc:
            parsed, error = None, str(exc)
        failure_objects.append({"key": key, "raw": raw, "parsed": parsed, "error": error})
    deser = TypeDeserializer()
    projected = {
        item["pk"]["S"]: {k: deser.deserialize(v) for k, v in item.items()}
        for item in _scan(pipe.backend.client("dynamodb"), pipe.output("ProjectionTableName"))
    }
    alerts = []
    sqs = pipe.backend.client("sqs")
    while True:
        msgs = sqs.receive_message(QueueUrl=inbox_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not msgs:
            break
        for m in msgs:
            alerts.append(json.loads(m["Body"]) if m["Body"].startswith("{") else m["Body"])
            sqs.delete_message(QueueUrl=inbox_url, ReceiptHandle=m["ReceiptHandle"])
    return {
        "mapping_uuid": pipe.output("EventSourceMappingId"),
        "consumer": pipe.output("ConsumerFunctionName"),
        "failure_handler": pipe.output("FailureHandlerFunctionName"),
        "failure_objects": failure_objects,
        "archive_keys": list(_keys(s3, bucket, "archive/")),
        "projected": projected,
        "alerts": alerts,
        "handler_invokes": pipe.journal.entries("runtime_invoke", function=pipe.output("FailureHandlerFunctionName")),
        "metrics": pipe.esm.metrics(pipe.output("EventSourceMappingId")),
    }


def _judge(facts: dict[str, Any], *, poison_pk: str, good_pks: list[str], injected: int) -> list[Check]:
    objs = facts["failure_objects"]
    checks = [check("one failure object in S3 (bisect isolates the poison)", 1, len(objs), spec="2.1")]
    if objs:
        obj = objs[0]
        raw = obj["raw"]
        parsed = obj["parsed"]
        checks.append(check("failure object is a valid ESM failure record", None, obj["error"], spec="3.2"))
        checks.append(check("S3 key uses the ESM layout with the mapping's UUID", True,
                            obj["key"].startswith(f"aws/lambda/{facts['mapping_uuid']}/")
                            and parsed is not None and parsed.key is not None and parsed.key.layout == "esm",
                            spec="4"))
        checks.append(check("payload is a JSON string", "str", type(raw.get("payload")).__name__, spec="3.5"))
        checks.append(check("S3 envelope keys sorted alphabetically", sorted(raw), list(raw), spec="3.2"))
        if parsed is not None:
            info = parsed.envelope.DDBStreamBatchInfo
            pks = [r["dynamodb"]["Keys"]["pk"]["S"] for r in parsed.records]
            checks.append(check("failure record holds exactly the poison order", [poison_pk], pks, spec="2.1"))
            checks.append(check("batchSize 1, start = end sequence number", (1, True),
                                (info.batchSize, info.startSequenceNumber == info.endSequenceNumber), spec="3.2"))
            checks.append(check("condition RetryAttemptsExhausted", "RetryAttemptsExhausted", parsed.condition, spec="3.3"))
            checks.append(check("approximateInvokeCount = retries + 1", int(DEMO_CONTEXT["retryAttempts"]) + 1,
                                parsed.envelope.requestContext.approximateInvokeCount, spec="0.2"))
            rc = parsed.envelope.responseContext
            checks.append(check("functionError Unhandled", "Unhandled", rc.functionError if rc else None, spec="3.2"))
    checks.append(check("every good order projected", sorted(good_pks), sorted(k for k in facts["projected"] if k != poison_pk)))
    checks.append(check("poison order not projected", False, poison_pk in facts["projected"]))
    ok_handler = [e for e in facts["handler_invokes"] if e.get("function_error") is None]
    checks.append(check("failure handler invoked once, successfully", 1, len(ok_handler)))
    valid_alerts = [a for a in facts["alerts"] if isinstance(a, dict) and a.get("kind") == "failure"
                    and a.get("key") in {o["key"] for o in objs}]
    checks.append(check("alert published naming the failure object", len(objs), len(valid_alerts)))
    archived = [k for k in facts["archive_keys"] if k.startswith("archive/condition=RetryAttemptsExhausted/")]
    checks.append(check("failure record archived under archive/condition=.../date=.../", len(objs), len(archived)))
    in_failures = sum(o["parsed"].envelope.DDBStreamBatchInfo.batchSize for o in objs if o["parsed"])
    projected_injected = len([k for k in facts["projected"] if k in set(good_pks) | {poison_pk}])
    checks.append(check("conservation: injected = projected + in failure records", injected, projected_injected + in_failures))
    return checks


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def _scan(ddb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    return items
