"""End-to-end throughput on the embedded backend, each pipeline against its own ceiling. Prints JSON.

Every run moves N good orders (no poison; the no-op pipeline NOOP_FACTOR x N, so its fast runs
last a few seconds) that were written to the source table before timing began, in batches of 100
(BatchSize 100), through the same local runtime (warm
awslambdaric workers), with moto serving DynamoDB/Streams in this process. A ratio divides two
runs that do the same work, in the same pipeline (same backend, same worker processes, same
function), with the same invoke payloads byte for byte; only what the ratio is about differs:

- e2e_engine_ratio (target >= 0.8): the full pipeline with the stack's real consumer (stream ->
  ESM engine -> local runtime -> lambdas/stream_consumer writing each order to the projection
  table) / that same consumer invoked directly with the same batches (the payloads the engine
  sends: GetRecords pages normalised, cut at BatchSize, encoded as the engine encodes them), no
  stream reading, no engine. The projection table is recreated empty before each of the two, so
  every write is a real projection in both. The engine's batches are checked against the direct
  run's after every e2e run: a mismatch is an error, not a number.
- e2e_noop_consumer_ratio (target >= 0.85): the full pipeline with the consumer's code replaced
  by a no-op handler / the no-op ceiling: the same GetRecords calls (Limit 1000, TRIM_HORIZON),
  the same normalisation and encoding, and one invoke of that same no-op function per batch, in
  order, with no engine logic (batching rules, journal, checkpoints, threads).
- e2e_ratio: e2e_records_per_s / e2e_ceiling_records_per_s (the real consumer against the no-op
  ceiling; issue 7's first definition, bounded by the consumer's own cost).

A pipeline run is timed from start_polling() to its last checkpoint (the last record through),
which is what the direct and ceiling runs time too; e2e_records_per_s keeps the old timing, to
settle() returning, which adds settle's final idle polls (at most one poll interval, 0.25 s).
While a pipeline runs, this script waits for that checkpoint with a 50 ms journal check before
calling settle(), whose drain loop would otherwise check every reader every 20 ms in the
process that runs moto and the engine.

Interleaving and medians: ROUNDS rounds, each with a fresh real-consumer pipeline (e2e run and
direct run) and a fresh no-op pipeline (e2e run and ceiling run); within a pipeline the order of
the two runs alternates from round to round, so neither side always runs first. Each ratio is
the median of the per-round ratios (each round's two runs are paired: same pipeline, same
minute); each rate is the median of its runs. A ratio above 1 is reported on stderr with the
evidence (per-round rates, their spread, load average) and what it means.

Other keys: e2e_consumer_only_records_per_s (the direct runs), e2e_ceiling_records_per_s, e2e_noop_records,
e2e_to_last_checkpoint_records_per_s, e2e_noop_consumer_records_per_s, e2e_rounds (every run's
rate, per round), e2e_consumer_write_concurrency (the consumer's PROJECTION_WRITE_CONCURRENCY,
default 8), peak_rss_mb (this process: moto, engine, runtime), peak_rss_children_mb (the largest
reaped child).

    python benchmarks/e2e.py [N]     (default 3000)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scenarios"))  # the sample stack's own helpers (_sample: its orders)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import E2E_CONTEXT, FAST_BACKOFF, _inject_fast, peak_rss_mb  # noqa: E402

RECORDS = 3000
BATCH = 100
PAGE = 1000  # GetRecords Limit, as the engine polls (harness/esm/shard_reader.py POLL_LIMIT)
ROUNDS = 3
NOOP_FACTOR = 3  # the no-op runs are fast: 3x the records keeps each run a few seconds long


def _pages(pipe: Any, total: int) -> Iterator[list[dict[str, Any]]]:
    """Each GetRecords page of the source stream, normalised as the engine does, until `total` are read."""
    from harness.esm.records import normalise

    streams = pipe.backend.client("dynamodbstreams")
    arn = pipe.output("SourceTableStreamArn")
    region = pipe.backend.region
    seen = 0
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it and seen < total:
            resp = streams.get_records(ShardIterator=it, Limit=PAGE)
            if not resp["Records"]:
                break
            seen += len(resp["Records"])
            yield [normalise(r, arn, region) for r in resp["Records"]]
            it = resp.get("NextShardIterator")
    if seen < total:
        raise RuntimeError(f"the stream held {seen} records, expected {total}")


def _payload(records: list[dict[str, Any]]) -> bytes:
    """Exactly what the engine sends (harness/esm/processor.py _invoke)."""
    return json.dumps({"Records": records}).encode()


def _batches(pipe: Any, total: int) -> list[list[dict[str, Any]]]:
    return [page[i:i + BATCH] for page in _pages(pipe, total) for i in range(0, len(page), BATCH)]


def _seqs(batch: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in batch]


def _invoke_all(pipe: Any, function: str, payloads: Iterator[bytes] | list[bytes]) -> None:
    for p in payloads:
        result = pipe.runtime.invoke(function, p)
        if result.function_error:
            raise RuntimeError(f"invoke of {function} failed: {result.payload[:300]!r}")


def _pipeline_run(pipe: Any, total: int, batches: list[list[dict[str, Any]]]) -> tuple[float, float]:
    """start_polling() to settle(); (records/s to the last checkpoint, records/s to settle). Checks
    that the engine invoked exactly `batches`, once each, so its rival run did the same work."""
    mark = len(pipe.journal)
    last = batches[-1][-1]["dynamodb"]["SequenceNumber"]
    began_wall = time.time()
    began = time.perf_counter()
    pipe.start_polling()
    # Wait for the last record's checkpoint cheaply (settle's drain loop checks every reader every
    # 20 ms, CPU this process's moto and engine would otherwise share), then settle as before.
    deadline = began + 600
    while not any(e["sequence_number"] == last for e in pipe.journal.entries("checkpoint")[-3:]):
        if time.perf_counter() > deadline:
            raise RuntimeError("the pipeline run did not checkpoint its last record within 600 s")
        time.sleep(0.05)
    pipe.settle(timeout=600)
    settled = total / (time.perf_counter() - began)
    checkpoints = [e["ts"] for e in pipe.journal.entries("checkpoint") if e["seq"] >= mark]
    if not checkpoints:
        raise RuntimeError("the pipeline run journaled no checkpoint")
    invoked = [e["sequence_numbers"] for e in pipe.journal.entries("invoked") if e["seq"] >= mark]
    if invoked != [_seqs(b) for b in batches]:
        raise RuntimeError(f"the engine invoked {len(invoked)} batches that differ from the {len(batches)} "
                           "the direct/ceiling run sends: the two runs would not do the same work")
    pipe.esm.stop()  # the rival run, when it comes second, runs alone
    pipe.notifications.stop()
    return total / (max(checkpoints) - began_wall), settled


def _recreate(pipe: Any, table: str) -> None:
    """An empty table of the same definition and name, so every write of the next run projects."""
    ddb = pipe.backend.client("dynamodb")
    desc = ddb.describe_table(TableName=table)["Table"]
    ddb.delete_table(TableName=table)
    params: dict[str, Any] = {"TableName": table, "KeySchema": desc["KeySchema"],
                              "AttributeDefinitions": desc["AttributeDefinitions"],
                              "BillingMode": desc.get("BillingModeSummary", {}).get("BillingMode", "PAY_PER_REQUEST")}
    if desc.get("StreamSpecification"):
        params["StreamSpecification"] = desc["StreamSpecification"]
    if desc.get("GlobalSecondaryIndexes") or desc.get("LocalSecondaryIndexes"):
        raise RuntimeError(f"table {table} has secondary indexes; _recreate would drop them")
    ddb.create_table(**params)


def _projected(pipe: Any, table: str) -> int:
    return pipe.backend.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]


def _open(items: list[dict[str, Any]], swap_code: Path | None = None) -> Any:
    """A started pipeline with the stack deployed (not polling) and `items` in the source table."""
    from harness.esm import EngineSettings
    from harness.pipeline import LocalPipeline

    pipe = LocalPipeline("embedded", esm_settings=EngineSettings(backoff=FAST_BACKOFF)).__enter__()
    try:
        pipe.deploy(E2E_CONTEXT, start_polling=False)
        if swap_code is not None:
            consumer = pipe.output("ConsumerFunctionName")
            spec = next(f for f in pipe.runtime.functions() if f.name == consumer)
            pipe.runtime.register(replace(spec, code_dir=swap_code, handler="app.handler"))
        _inject_fast(pipe, items)
    except BaseException:
        pipe.__exit__(None, None, None)
        raise
    return pipe


def _in_order(first_is_pipeline: bool, pipeline: Callable[[], Any], rival: Callable[[], Any]) -> tuple[Any, Any]:
    if first_is_pipeline:
        a = pipeline()
        return a, rival()
    b = rival()
    return pipeline(), b


def _real_round(items: list[dict[str, Any]], total: int, pipeline_first: bool) -> dict[str, Any]:
    """The real consumer: the e2e run and the same consumer invoked directly, in one pipeline."""
    pipe = _open(items)
    try:
        consumer = pipe.output("ConsumerFunctionName")
        table = pipe.output("ProjectionTableName")
        batches = _batches(pipe, total)
        payloads = [_payload(b) for b in batches]
        # Warm both paths' first real write (worker: botocore's PutItem; moto: its handler), then start empty.
        _invoke_all(pipe, consumer, payloads[:1])
        _recreate(pipe, table)

        def pipeline() -> tuple[float, float]:
            rates = _pipeline_run(pipe, total, batches)
            if _projected(pipe, table) < total:
                raise RuntimeError(f"the e2e run projected {_projected(pipe, table)} of {total} records")
            _recreate(pipe, table)
            return rates

        def direct() -> float:
            began = time.perf_counter()
            _invoke_all(pipe, consumer, payloads)
            rate = total / (time.perf_counter() - began)
            if _projected(pipe, table) < total:
                raise RuntimeError(f"the direct run projected {_projected(pipe, table)} of {total} records")
            _recreate(pipe, table)
            return rate

        (e2e, settled), only = _in_order(pipeline_first, pipeline, direct)
        spec = next(f for f in pipe.runtime.functions() if f.name == consumer)
        concurrency = spec.environment.get("PROJECTION_WRITE_CONCURRENCY", "8 (default)")
    finally:
        pipe.__exit__(None, None, None)
    return {"e2e": e2e, "e2e_settled": settled, "consumer_only": only, "concurrency": concurrency,
            "pipeline_first": pipeline_first}


def _noop_round(items: list[dict[str, Any]], total: int, noop_code: Path, pipeline_first: bool) -> dict[str, Any]:
    """The no-op consumer: the e2e run and the ceiling (same reads, same invokes, no engine), in one pipeline."""
    pipe = _open(items, swap_code=noop_code)
    try:
        consumer = pipe.output("ConsumerFunctionName")
        batches = _batches(pipe, total)
        _invoke_all(pipe, consumer, [_payload(batches[0])])  # warm

        def ceiling() -> float:
            began = time.perf_counter()
            _invoke_all(pipe, consumer, (_payload(page[i:i + BATCH]) for page in _pages(pipe, total)
                                         for i in range(0, len(page), BATCH)))
            return total / (time.perf_counter() - began)

        (e2e, _settled), ceil = _in_order(pipeline_first, lambda: _pipeline_run(pipe, total, batches), ceiling)
    finally:
        pipe.__exit__(None, None, None)
    return {"noop_e2e": e2e, "ceiling": ceil, "pipeline_first": pipeline_first}


def _explain_above_one(name: str, ratios: list[float], num: list[float], den: list[float]) -> None:
    """Say on stderr why a ratio that should be at most 1 is not, with the numbers to judge it."""
    over = [r for r in ratios if r > 1]
    if not over:
        return
    spread = (max(den) - min(den)) / statistics.median(den)
    load = os.getloadavg()
    median = statistics.median(ratios)
    why = (f"{max(over) - 1:.1%} above 1 is within the denominator's run-to-run spread ({spread:.1%}): noise from "
           f"other processes on the cores (load average {load[0]:.1f}/{load[1]:.1f}), not the engine beating its "
           "ceiling" if max(over) - 1 <= spread else
           f"{max(over) - 1:.1%} above 1 is more than the denominator's run-to-run spread ({spread:.1%}): suspect "
           "the two runs (the batches were checked equal; the machine's load or a run's warm-up?)")
    print(f"[e2e] {name}: {len(over)} of {len(ratios)} round(s) above 1 (median {median:.3f}); per round "
          f"{[round(r, 3) for r in ratios]}, numerator {[round(x, 1) for x in num]}/s, denominator "
          f"{[round(x, 1) for x in den]}/s. {why}", file=sys.stderr)


def run(records: int = RECORDS, rounds: int = ROUNDS, noop_records: int | None = None) -> dict[str, Any]:
    from _sample.orders import orders

    noop_records = noop_records or NOOP_FACTOR * records
    items = orders(records, run="e2e")
    noop_items = orders(noop_records, run="e2e-noop")
    real: list[dict[str, Any]] = []
    noop: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp)
        (code / "app.py").write_text("def handler(event, context):\n    return None\n")
        for i in range(rounds):
            first = i % 2 == 0
            real.append(_real_round(items, records, first))
            noop.append(_noop_round(noop_items, noop_records, code, first))
            print(f"[e2e] round {i + 1}/{rounds}: e2e {real[-1]['e2e']:.0f}/s, direct {real[-1]['consumer_only']:.0f}/s; "
                  f"no-op e2e {noop[-1]['noop_e2e']:.0f}/s, ceiling {noop[-1]['ceiling']:.0f}/s", file=sys.stderr)
    return {**summarise(records, noop_records, real, noop), **peak_rss_mb()}


def summarise(records: int, noop_records: int, real: list[dict[str, Any]], noop: list[dict[str, Any]]) -> dict[str, Any]:
    """The reported keys from the rounds: rates are medians of their runs, ratios medians of the
    per-round (paired) ratios; a ratio above 1 is explained on stderr."""
    med = statistics.median
    engine = [r["e2e"] / r["consumer_only"] for r in real]
    noop_ratio = [n["noop_e2e"] / n["ceiling"] for n in noop]
    _explain_above_one("e2e_engine_ratio", engine, [r["e2e"] for r in real], [r["consumer_only"] for r in real])
    _explain_above_one("e2e_noop_consumer_ratio", noop_ratio, [n["noop_e2e"] for n in noop], [n["ceiling"] for n in noop])
    e2e_settled = med(r["e2e_settled"] for r in real)
    ceiling = med(n["ceiling"] for n in noop)
    return {
        "e2e_records": records,
        "e2e_records_per_s": round(e2e_settled, 1),
        "e2e_to_last_checkpoint_records_per_s": round(med(r["e2e"] for r in real), 1),
        "e2e_ceiling_records_per_s": round(ceiling, 1),
        "e2e_ratio": round(e2e_settled / ceiling, 3),
        "e2e_consumer_only_records_per_s": round(med(r["consumer_only"] for r in real), 1),
        "e2e_engine_ratio": round(med(engine), 3),
        "e2e_consumer_write_concurrency": real[0]["concurrency"],
        "e2e_noop_records": noop_records,
        "e2e_noop_consumer_records_per_s": round(med(n["noop_e2e"] for n in noop), 1),
        "e2e_noop_consumer_ratio": round(med(noop_ratio), 3),
        "e2e_rounds": [{"e2e": round(r["e2e"], 1), "consumer_only": round(r["consumer_only"], 1),
                        "noop_e2e": round(n["noop_e2e"], 1), "ceiling": round(n["ceiling"], 1),
                        "pipeline_first": r["pipeline_first"]} for r, n in zip(real, noop)],
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else RECORDS)))
