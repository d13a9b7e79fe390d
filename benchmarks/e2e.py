"""End-to-end throughput on the embedded backend, against this machine's ceiling. Prints JSON:

- e2e_records_per_s: N good orders already in the source table's stream, through the ESM engine,
  the local runtime and the real consumer (which writes each order to the projection table),
  from the moment polling starts until the pipeline has settled. BatchSize 100.
- e2e_ceiling_records_per_s: the same stream, read again with plain GetRecords (1000 a call) and
  handed in batches of 100 to a no-op function through the same local runtime: no engine logic,
  no consumer work. The most any engine could do here.
- e2e_ratio: e2e / ceiling (target >= 0.5).
- e2e_consumer_only_records_per_s: the real consumer invoked directly with the same batches (no
  engine): what the consumer's own work (one conditional PutItem per record into moto) allows.
- e2e_engine_ratio: e2e / consumer-only: how much of what the consumer allows the engine delivers.
- peak_rss_mb: this process (moto runs in it); peak_rss_children_mb: the largest reaped child.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import E2E_CONTEXT, FAST_BACKOFF, _inject_fast, peak_rss_mb  # noqa: E402

RECORDS = 3000
BATCH = 100


def _stream_batches(pipe: Any, total: int) -> list[list[dict[str, Any]]]:
    """Every record of the source stream via GetRecords, cut into invoke batches. Timed by the caller."""
    streams = pipe.backend.client("dynamodbstreams")
    arn = pipe.output("SourceTableStreamArn")
    batches: list[list[dict[str, Any]]] = []
    seen = 0
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it and seen < total:
            resp = streams.get_records(ShardIterator=it, Limit=1000)
            recs = resp["Records"]
            if not recs:
                break
            seen += len(recs)
            batches.extend(recs[i:i + BATCH] for i in range(0, len(recs), BATCH))
            it = resp.get("NextShardIterator")
    return batches


def _ceiling(pipe: Any, total: int, function: str) -> float:
    """GetRecords + invoke of `function` per batch, in order, as one reader would; records/s."""
    began = time.perf_counter()
    streams = pipe.backend.client("dynamodbstreams")
    arn = pipe.output("SourceTableStreamArn")
    seen = 0
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it and seen < total:
            resp = streams.get_records(ShardIterator=it, Limit=1000)
            recs = resp["Records"]
            if not recs:
                break
            for i in range(0, len(recs), BATCH):
                result = pipe.runtime.invoke(function, json.dumps({"Records": recs[i:i + BATCH]}, default=str).encode())
                if result.function_error:
                    raise RuntimeError(f"ceiling invoke of {function} failed: {result.payload[:300]!r}")
            seen += len(recs)
            it = resp.get("NextShardIterator")
    if seen < total:
        raise RuntimeError(f"the stream held {seen} records, expected {total}")
    return total / (time.perf_counter() - began)


def _consumer_only(pipe: Any, batches: list[list[dict[str, Any]]], total: int) -> float:
    """The real consumer, invoked directly with normalised batches (no engine); records/s."""
    from harness.esm.records import normalise

    arn = pipe.output("SourceTableStreamArn")
    region = pipe.backend.region
    payloads = [json.dumps({"Records": [normalise(r, arn, region) for r in b]}, default=str).encode() for b in batches]
    consumer = pipe.output("ConsumerFunctionName")
    began = time.perf_counter()
    for p in payloads:
        result = pipe.runtime.invoke(consumer, p)
        if result.function_error:
            raise RuntimeError(f"consumer failed: {result.payload[:300]!r}")
    return total / (time.perf_counter() - began)


def run(records: int = RECORDS) -> dict[str, Any]:
    from harness.esm import EngineSettings
    from harness.injector import orders
    from harness.pipeline import LocalPipeline
    from harness.runtime import FunctionSpec

    items = orders(records, run="e2e")
    with tempfile.TemporaryDirectory() as tmp, \
            LocalPipeline("embedded", esm_settings=EngineSettings(backoff=FAST_BACKOFF)) as pipe:
        code = Path(tmp)
        (code / "app.py").write_text("def handler(event, context):\n    return None\n")
        pipe.runtime.register(FunctionSpec("noop", code, "app.handler", timeout_s=30))
        pipe.deploy(E2E_CONTEXT, start_polling=False)
        _inject_fast(pipe, items)
        # Warm both functions first so neither run pays a cold start the other does not.
        pipe.runtime.invoke("noop", b'{"Records": []}')
        pipe.runtime.invoke(pipe.output("ConsumerFunctionName"), b'{"Records": []}')

        began = time.perf_counter()
        pipe.start_polling()
        pipe.settle(timeout=600)
        e2e = records / (time.perf_counter() - began)
        projected = pipe.backend.client("dynamodb").scan(TableName=pipe.output("ProjectionTableName"),
                                                         Select="COUNT")["Count"]
        if projected < records:
            raise RuntimeError(f"only {projected} of {records} records were projected")
        pipe.esm.stop()  # the ceiling runs alone
        pipe.notifications.stop()
        ceiling = _ceiling(pipe, records, "noop")
        consumer_only = _consumer_only(pipe, _stream_batches(pipe, records), records)
    return {
        "e2e_records": records,
        "e2e_records_per_s": round(e2e, 1),
        "e2e_ceiling_records_per_s": round(ceiling, 1),
        "e2e_ratio": round(e2e / ceiling, 3),
        "e2e_consumer_only_records_per_s": round(consumer_only, 1),
        "e2e_engine_ratio": round(e2e / consumer_only, 3),
        **peak_rss_mb(),
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else RECORDS)))
