"""Load: many records with 1% poison, and the conservation check (lost must be 0). Prints JSON.

Two runs:
- `simulate`: 100,000 records through `harness simulate` (the engine on virtual time, in-memory
  stream, scripted handler) over several shards; conservation from its output.
- `e2e`: N records through the embedded backend end to end (LocalPipeline: moto stream -> ESM
  engine -> local runtime -> the real consumer -> projection table; poison -> S3 failure record ->
  failure handler). Conservation from the backend's state, not the engine: every injected order
  is in the projection table, in an S3 failure record, or in a journal `dropped` entry.

Engine backoff is shortened (50 ms, x2, cap 200 ms) so a run measures throughput rather than
AWS's undocumented retry pauses (spec 1 [GAP]); retry counting and bisect are unchanged.

The S3 -> failure-handler notification service polls the failure bucket with a full listing; its
default 0.2 s cadence costs O(objects) each time, which at 100k records (1,000 failure objects)
took about a third of this process's CPU away from moto and the engine. The e2e run polls every
NOTIFICATION_POLL_S instead: every failure object is still delivered to the failure handler (the
audit counts the deliveries), only later. The order dicts are dropped once injected (only their
keys are needed for the audit), so they do not count against the peak RSS of a 100k run.

Memory of `--e2e-records 100000` (2 cores, shared; measured 2026-11-28): peak RSS 870 MiB, 808 MiB
when the pipeline has settled (was 1006 MiB when the journal kept all ~291k entries as dicts,
~150 MB). The journal is now written to a file (a temporary one unless `--journal`), which keeps
only its newest entries in memory. What remains is mostly moto's, in this process, per record:
source item ~1.5 KB + its stream record ~2.3 KB (moto never trims a stream) + projection item
~2.6 KB, ~640 MB at 100k, over a ~150 MB interpreter/boto/moto base. The audit adds ~55 MB (see
the `[load audit]` notes on stderr). The simulate run peaks at ~280 MiB.

Progress of the e2e run (injected, polled, invoked, delivered to the destination, RSS) goes to
stderr every few seconds, so a long run (`--e2e-records 100000`, several minutes) shows it is moving.

    python benchmarks/load.py [--sim-records 100000] [--shards 4] [--e2e-records 10000] [--json FILE]
                              [--journal FILE] [--node-fault-records 10000]

A third run, `node_faults`: the same stack with its consumer replaced by a small Node.js consumer
(nodejs24.x, projecting each key), every order good, and an error fault (harness.faults) failing
the invocations that hold the 1% of orders a filter pattern chooses: bisect isolates them into
failure records, the rest is projected, nothing is lost. Measured 2026-12-06 (2 cores, shared by
several other jobs), `--node-fault-records 100000`: 10,000 invocations faulted, 1,000 failure
objects (each the one faulted order), 99,000 projected, lost 0, 422 records/s injected and 244
records/s processed, peak RSS 705 MiB (this process), 281 MiB (the largest worker).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scenarios"))  # the sample stack's own helpers (_sample: its orders)

from harness.esm import EngineSettings, run_simulation  # noqa: E402
from harness.esm.config import Backoff  # noqa: E402

E2E_CONTEXT = {"batchSize": 100, "retryAttempts": 2, "bisect": True, "reportBatchItemFailures": False}
FAST_BACKOFF = Backoff(0.05, 2.0, 0.2)
POISON_EVERY = 100  # 1%
NOTIFICATION_POLL_S = 1.0


def peak_rss_mb() -> dict[str, float]:
    """ru_maxrss (KiB on Linux) of this process (moto runs in it) and of reaped children (workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": round(own, 1), "peak_rss_children_mb": round(children, 1)}


def current_rss_mb() -> float:
    """Resident set of this process now (moto, the engine and the journal live here)."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Progress:
    """Prints one line to stderr every `every_s` seconds from a daemon thread until stopped."""

    def __init__(self, describe: Any, every_s: float = 10.0) -> None:
        self._describe = describe
        self._every = every_s
        self._stop = threading.Event()
        self._began = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="load-progress", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.line()

    def line(self) -> None:
        try:
            text = self._describe()
        except Exception as exc:  # noqa: BLE001 - progress must never stop the run
            text = f"(progress unavailable: {exc!r})"
        print(f"[load {time.perf_counter() - self._began:7.1f}s] {text} rss={current_rss_mb():.0f}MB",
              file=sys.stderr, flush=True)

    def __enter__(self) -> "Progress":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.line()


def simulate_load(records: int = 100_000, shards: int = 4) -> dict[str, Any]:
    """100,000 records, 1% raising, bisect, retries 2, S3 destination, `shards` independent shards."""
    spec = {
        "mapping": {"BatchSize": 100, "MaximumRetryAttempts": 2, "BisectBatchOnFunctionError": True,
                    "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::failures"}}},
        "records": records,
        "shards": shards,
        "handler": {"fail": list(range(0, records, POISON_EVERY)), "mode": "raise"},
    }
    began = time.perf_counter()
    out = run_simulation(spec)
    wall = time.perf_counter() - began
    accounted = set(out["processed"]) | set(out["discarded"]) | set(out["filtered"]) | set(out["trimmed"])
    poison = set(spec["handler"]["fail"])
    return {
        "records": records,
        "shards": shards,
        "poison": len(poison),
        "wall_s": round(wall, 3),
        "records_per_s": round(records / wall),
        "invocations": len(out["invocations"]),
        "destination_records": len(out["destination"]),
        "processed": len(set(out["processed"])),
        "discarded": len(set(out["discarded"])),
        "lost": records - len(accounted & set(range(records))),
        "poison_discarded": len(poison & set(out["discarded"])),
        "good_discarded": len(set(out["discarded"]) - poison),
    }


def _inject_fast(pipe: Any, items: list[dict[str, Any]], done: list[int] | None = None) -> None:
    """BatchWriteItem (25 per call) instead of one PutItem per item: injection is not what is measured.
    Every item is still journaled as `injected`, like LocalPipeline.inject does. `done[0]` counts
    injected items for a progress reporter."""
    from boto3.dynamodb.types import TypeSerializer

    ser = TypeSerializer()
    table = pipe.output("SourceTableName")
    ddb = pipe.backend.client("dynamodb")
    for start in range(0, len(items), 25):
        chunk = items[start:start + 25]
        request = {table: [{"PutRequest": {"Item": {k: ser.serialize(v) for k, v in item.items()}}} for item in chunk]}
        while request:
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        for item in chunk:
            pipe.journal.record("injected", table=table, pk=item["pk"])
        if done is not None:
            done[0] += len(chunk)


def _present_pks(ddb: Any, table: str, pks: set[str]) -> set[str]:
    """Which of `pks` are in `table`: BatchGetItem, 100 keys a call. A Scan of a 100k-item moto
    table grew this process by ~190 MB (kept after the scan); looking the keys up grows it ~60 MB."""
    keys = sorted(pks)
    found: set[str] = set()
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {table: {"Keys": [{"pk": {"S": k}} for k in keys[start:start + 100]],
                                           "ProjectionExpression": "pk", "ConsistentRead": True}}
        while request:
            resp = ddb.batch_get_item(RequestItems=request)
            found.update(i["pk"]["S"] for i in resp["Responses"].get(table, []))
            request = resp.get("UnprocessedKeys") or {}
    return found


def _hwm_mb() -> float:
    """Peak resident set of this process so far (VmHWM), or ru_maxrss where /proc is missing."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _memory_note(phase: str) -> None:
    """Resident and peak memory after an audit phase, to stderr: says which phase sets the peak."""
    print(f"[load audit] {phase}: rss={current_rss_mb():.0f}MB peak={_hwm_mb():.0f}MB", file=sys.stderr, flush=True)


def _failure_record_pks(s3: Any, bucket: str) -> tuple[set[str], int]:
    from harness.failures import parse_failure_record

    pks: set[str] = set()
    objects = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="aws/lambda/"):
        for obj in page.get("Contents", []):
            rec = parse_failure_record(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read(), key=obj["Key"])
            pks.update(r["dynamodb"]["Keys"]["pk"]["S"] for r in rec.records)
            objects += 1
    return pks, objects


NODE_CONSUMER = """
// The load's Node.js consumer: projects each order's key into the projection table (BatchWriteItem,
// 25 a call). It never fails by itself: the failures come from the injected error fault.
const { DynamoDBClient, BatchWriteItemCommand } = require("@aws-sdk/client-dynamodb");
const client = new DynamoDBClient({});
exports.handler = async (event) => {
  const keys = event.Records.filter((r) => r.dynamodb && r.dynamodb.NewImage).map((r) => r.dynamodb.Keys.pk.S);
  for (let i = 0; i < keys.length; i += 25) {
    let request = { [process.env.PROJECTION_TABLE]: keys.slice(i, i + 25).map((pk) => ({ PutRequest: { Item: { pk: { S: pk } } } })) };
    while (request && Object.keys(request).length) {
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: request }));
      request = out.UnprocessedItems;
    }
  }
  return null;
};
"""
# 1% of the orders: those whose key ends in "00" (order#load-00000, -00100, ...), chosen by a
# Lambda filter pattern, so the fault selects records by their data as a team would.
FAULT_MATCH = {"dynamodb": {"Keys": {"pk": {"S": [{"suffix": "00"}]}}}}


def _node_consumer(pipe: Any, workdir: Path) -> None:
    """Run the deployed consumer from the Node.js consumer above (nodejs24.x), same name and environment."""
    import dataclasses

    name = pipe.output("ConsumerFunctionName")
    spec = next(s for s in pipe.runtime.functions() if s.name == name)
    code = workdir / "node-consumer"
    code.mkdir()
    (code / "index.js").write_text(NODE_CONSUMER)
    pipe.runtime.register(dataclasses.replace(spec, code_dir=code, handler="index.handler", runtime="nodejs24.x",
                                              layers=()))


def e2e_load(records: int = 10_000, *, run: str = "load", timeout: float | None = None,
             progress_every_s: float = 10.0, journal_path: Path | None = None,
             node_faults: bool = False) -> dict[str, Any]:
    """`records` orders, 1% poison, BatchSize 100, through the deployed stack on the embedded backend.
    `timeout` (settling) defaults to 600 s or 50 records/s, whichever is longer.

    The journal is written to `journal_path` (kept) or to a temporary file (removed after the
    audit): with a file, the journal holds only its recent entries in memory (harness/journal.py),
    which is what keeps a 100k run's journal (~300k entries, ~150 MB as dicts) out of the peak."""
    if journal_path is None:
        with tempfile.TemporaryDirectory(prefix="harness-load-") as tmp:
            return e2e_load(records, run=run, timeout=timeout, progress_every_s=progress_every_s,
                            journal_path=Path(tmp) / "journal.jsonl", node_faults=node_faults)
    from _sample.orders import orders
    from harness.notifications import NotificationService
    from harness.pipeline import LocalPipeline

    def notifications(pipe: Any) -> NotificationService:
        return NotificationService(s3_client=pipe.backend.client("s3"), invoker=pipe.runtime, journal=pipe.journal,
                                   region=pipe.backend.region, poll_interval_s=NOTIFICATION_POLL_S)

    # node_faults: every order is good; the consumer is the Node.js one and an error fault fails the
    # invocations holding the 1% chosen by FAULT_MATCH (their keys end in "00": i % 100 == 0).
    items = orders(records, poison=() if node_faults else range(0, records, POISON_EVERY), run=run)
    injected = {i["pk"] for i in items}
    poison = {items[i]["pk"] for i in range(0, records, POISON_EVERY)}
    timeout = timeout if timeout is not None else max(600.0, records / 50)
    injected_so_far = [0]
    with LocalPipeline("embedded", esm_settings=EngineSettings(backoff=FAST_BACKOFF),
                       factories={"notifications": notifications}, journal_path=journal_path) as pipe:
        pipe.deploy(E2E_CONTEXT, start_polling=False)
        uuid = pipe.output("EventSourceMappingId")
        injector = None
        if node_faults:
            from harness.faults import FaultInjector

            _node_consumer(pipe, journal_path.parent)
            injector = FaultInjector(journal=pipe.journal, now=time.time, consumer=pipe.output("ConsumerFunctionName"))
            injector.add([{"fault": "error", "match": FAULT_MATCH, "message": "injected load fault"}])
            injector.install(pipe.runtime, pipe.esm)

        def describe() -> str:
            m = pipe.esm.metrics(uuid)
            return (f"e2e {records}: injected={injected_so_far[0]} polled={int(m.get('PolledEventCount', 0))} "
                    f"invoked={int(m.get('InvokedEventCount', 0))} "
                    f"to_destination={int(m.get('OnFailureDestinationDeliveredEventCount', 0))}")

        with Progress(describe, progress_every_s):
            t0 = time.perf_counter()
            _inject_fast(pipe, items, injected_so_far)
            t1 = time.perf_counter()
            del items[:]  # the audit needs only the keys (above)
            pipe.start_polling()
            pipe.settle(timeout=timeout)
            t2 = time.perf_counter()
        peak_at_settle = _hwm_mb()
        journal = pipe.journal
        metrics = pipe.esm.metrics(pipe.output("EventSourceMappingId"))
        handler = pipe.output("FailureHandlerFunctionName")
        notified = [d for d in pipe.notifications.deliveries() if d.function == handler and d.status == "delivered"]
        # The audit reads only the projection table and the failure bucket, so the source table
        # goes first. It frees less than hoped: moto's dynamodbstreams backend keeps every shard
        # iterator it handed out, and they reference the stream shard and so the table; at 100k the
        # projection audit still adds ~50 MB on top of the settled peak (the notes on stderr say so).
        pipe.esm.stop()
        pipe.notifications.stop()
        _memory_note("settled")
        pipe.backend.client("dynamodb").delete_table(TableName=pipe.output("SourceTableName"))
        gc.collect()  # moto's table and its stream records form reference cycles: free what is free
        _memory_note("source table deleted")
        projected = _present_pks(pipe.backend.client("dynamodb"), pipe.output("ProjectionTableName"), injected)
        _memory_note("projection table audited")
        in_failures, objects = _failure_record_pks(pipe.backend.client("s3"), pipe.output("FailureBucketName"))
        _memory_note("failure records audited")
    _memory_note("pipeline stopped")
    # Dropped entries name sequence numbers; map them to keys through the invocations' batches is not
    # possible from the journal alone, so they are counted (and must be 0 with a working bucket).
    dropped = sum(len(e["sequence_numbers"]) for e in journal.entries("dropped"))
    # Counted by walking the journal (read back lazily from its file), not by materialising
    # every invoke_result entry (17k dicts at 100k records) just to take a length.
    invocations = sum(1 for e in journal if e["kind"] == "invoke_result")
    _memory_note("journal counted")
    accounted = projected | in_failures
    return {
        "records": records,
        "poison": len(poison),
        "batch_size": E2E_CONTEXT["batchSize"],
        "inject_s": round(t1 - t0, 2),
        "process_s": round(t2 - t1, 2),
        "records_per_s": round(records / (t2 - t1), 1),
        "inject_records_per_s": round(records / (t1 - t0), 1),
        "projected": len(projected & injected),
        "in_failure_records": len(in_failures & injected),
        "failure_objects": objects,
        "failure_handler_delivered": len(notified),
        "dropped": dropped,
        "lost": len(injected - accounted) - dropped,
        "peak_rss_at_settle_mb": round(peak_at_settle, 1),
        "poison_projected": len(poison & projected),
        "good_in_failure_records": len((in_failures - poison) & injected),
        "invocations": invocations,
        "consumer": "nodejs24.x with an error fault on 1% (match)" if node_faults else "the sample's Python consumer",
        "faulted_invocations": (injector.listed()[0]["applied"] if injector is not None else 0),
        "journal_entries": len(journal),
        "esm_metrics": {k: v for k, v in metrics.items() if v},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sim-records", type=int, default=100_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--e2e-records", type=int, default=10_000)
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    parser.add_argument("--journal", type=Path, help="keep the e2e run's journal (JSON Lines) here")
    parser.add_argument("--node-fault-records", type=int, default=10_000,
                        help="records through the Node.js consumer with 1%% error faults (0: skip)")
    args = parser.parse_args(argv)
    sim = simulate_load(args.sim_records, args.shards)
    e2e = e2e_load(args.e2e_records, journal_path=args.journal) if args.e2e_records > 0 else None
    node = (e2e_load(args.node_fault_records, run="nodefault", node_faults=True)
            if args.node_fault_records > 0 else None)
    out = {
        "load_sim_records_per_s": sim["records_per_s"],
        "load_sim_lost": sim["lost"],
        "load_e2e_records_per_s": e2e["records_per_s"] if e2e else None,
        "load_e2e_lost": e2e["lost"] if e2e else None,
        "load_node_faults_records_per_s": node["records_per_s"] if node else None,
        "load_node_faults_lost": node["lost"] if node else None,
        "load_node_faults_peak_rss_at_settle_mb": node["peak_rss_at_settle_mb"] if node else None,
        **{f"load_{k}": v for k, v in peak_rss_mb().items()},
        "load_detail": {"simulate": sim, "e2e": e2e, "node_faults": node},
    }
    text = json.dumps(out)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
    print(text)
    ok = sim["lost"] == 0 and (e2e is None or e2e["lost"] == 0) and (node is None or node["lost"] == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
