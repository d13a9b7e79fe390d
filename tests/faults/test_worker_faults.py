"""Worker processes that crash and time out mid-stream, with the real local runtime (awslambdaric
workers) behind the ESM on the embedded backend's stream.

Spec 1: "A function error includes an unhandled exception or a timeout": both are counted
retries. The handler crashes (os._exit) on one record and hangs past its timeout on another,
each only the first time it sees it, so the retry after the fault succeeds. Expectations: the
journal shows each fault (worker exit, Sandbox.Timedout, a counted function error, the
split), the dead workers are replaced, and every record is eventually processed.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from faultkit import audit, wait_until  # type: ignore[import-not-found]
from harness.backends import get_backend
from harness.esm import EngineSettings, EsmService, InMemoryDestinations
from harness.esm.config import Backoff
from harness.journal import Journal
from harness.runtime import FunctionSpec, LocalRuntime

pytestmark = pytest.mark.timeout(90)

HANDLER = textwrap.dedent('''
    import os, time
    MARKS = os.environ["FAULT_MARKS"]

    def _first_time(seq):
        path = os.path.join(MARKS, seq)
        if os.path.exists(path):
            return False
        open(path, "w").close()
        return True

    def handler(event, context):
        for r in event["Records"]:
            seq = r["dynamodb"]["SequenceNumber"]
            fault = r["dynamodb"]["NewImage"].get("fault", {}).get("S")
            if fault == "crash" and _first_time(seq):
                os._exit(3)  # the worker process dies mid-invoke
            if fault == "hang" and _first_time(seq):
                time.sleep(30)  # far past the function timeout
        with open(os.path.join(MARKS, "processed.log"), "a") as f:
            f.write("".join(r["dynamodb"]["SequenceNumber"] + "\\n" for r in event["Records"]))
        return None
''')


def test_worker_crash_and_timeout_mid_stream_are_counted_retried_and_lose_nothing(tmp_path: Path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    marks = tmp_path / "marks"
    marks.mkdir()
    journal = Journal()
    with get_backend("embedded") as backend:
        ddb = backend.client("dynamodb")
        arn = ddb.create_table(
            TableName="faulty", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        faults = {7: "crash", 23: "hang"}
        for i in range(30):
            item = {"pk": {"S": f"k{i:03d}"}}
            if i in faults:
                item["fault"] = {"S": faults[i]}
            ddb.put_item(TableName="faulty", Item=item)
        with LocalRuntime(base_environment=backend.lambda_environment(), journal=journal) as runtime:
            runtime.register(FunctionSpec("faulty", code, "app.handler", environment={"FAULT_MARKS": str(marks)},
                                          timeout_s=1.0))
            dest = InMemoryDestinations()
            esm = EsmService(streams_client=backend.client("dynamodbstreams"), invoker=runtime, destinations=dest,
                             journal=journal, poll_interval_s=0.1,
                             settings=EngineSettings(backoff=Backoff(0.05, 2.0, 0.2)))
            uuid = esm.create_event_source_mapping(
                EventSourceArn=arn, FunctionName="faulty", StartingPosition="TRIM_HORIZON", BatchSize=10,
                MaximumRetryAttempts=2, BisectBatchOnFunctionError=True,
                DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:never"}})["UUID"]
            try:
                esm.start()
                log = marks / "processed.log"
                wait_until(lambda: log.exists() and len(set(log.read_text().split())) >= 30,
                           timeout=40, what="all 30 records processed")
                esm.drain(timeout=30)
            finally:
                esm.stop()
            metrics = esm.metrics(uuid)

    seqs = [e["sequence_numbers"] for e in journal.entries("batch_formed")]
    all_seqs = {s for batch in seqs for s in batch}
    assert len(all_seqs) == 30
    processed = set((marks / "processed.log").read_text().split())
    assert processed == all_seqs, f"not processed: {sorted(all_seqs - processed)}"
    where = audit(journal, all_seqs)
    assert where["lost"] == set() and where["destination"] == set() and where["dropped"] == set()
    assert not dest.deliveries and metrics["DroppedEventCount"] == 0

    # The journal shows both faults, as the runtime saw them and as the engine counted them.
    runtime_errors = [e for e in journal.entries("runtime_invoke", function="faulty") if e["function_error"]]
    assert {e["error_type"] for e in runtime_errors} >= {"Runtime.ExitError", "Sandbox.Timedout"}, runtime_errors
    exits = [e for e in journal.entries("runtime_worker_exit", function="faulty") if not e["expected"]]
    assert len(exits) >= 1, "the crashed worker's exit is journaled"
    failed = [e for e in journal.entries("invoke_result") if e["outcome"] == "function_error"]
    assert len(failed) == 2 and all(e["counted"] and e["function_error"] == "Unhandled" for e in failed)
    # Spec 2.1: each failed batch of 10 was split (not a retry) and the halves went on.
    assert len(journal.entries("split")) == 2
    # The workers were replaced: invocations after each fault succeeded.
    last_fault = max(e["seq"] for e in failed)
    assert [e for e in journal.entries("invoke_result") if e["seq"] > last_fault and e["outcome"] == "success"]
