"""ESM simulation throughput. Prints JSON:
esm_sim_records_per_s: 100,000 records, BatchSize 100, 1% failing (raise), bisect on, retries 2, S3 destination.
simulate_10k_s: wall time of run_simulation for 10,000 records, 1% failing (same settings).
esm_sim_records_per_s_pf4: the 100,000-record run with ParallelizationFactor 4 (1,000 item keys).
esm_sim_kinesis_records_per_s: the 100,000-record run on a Kinesis stream (spec 10: Kinesis records,
KinesisBatchInfo envelopes), same settings."""

from __future__ import annotations

import json
import time

from harness.esm import run_simulation


def spec(n: int, pf: int = 1, source: str = "dynamodb") -> dict:
    out = {
        "source": source,
        "mapping": {"BatchSize": 100, "MaximumRetryAttempts": 2, "BisectBatchOnFunctionError": True,
                    "ParallelizationFactor": pf,
                    "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::failures"}}},
        "records": n,
        "handler": {"fail": list(range(0, n, 100)), "mode": "raise"},
    }
    if pf > 1:
        out["keys"] = 1000
    return out


def timed(n: int, pf: int = 1, source: str = "dynamodb") -> tuple[float, dict]:
    began = time.perf_counter()
    out = run_simulation(spec(n, pf, source))
    return time.perf_counter() - began, out


def main() -> None:
    t100k, out = timed(100_000)
    assert len(out["destination"]) == 1000, "benchmark run did not isolate every failing record"
    t10k = min(timed(10_000)[0] for _ in range(3))
    tpf4, out4 = timed(100_000, pf=4)
    assert len(out4["destination"]) == 1000 and len(out4["processed"]) == 99_000, "pf4 run lost records"
    tkin, outk = timed(100_000, source="kinesis")
    assert len(outk["destination"]) == 1000 and len(outk["processed"]) == 99_000, "kinesis run lost records"
    assert "KinesisBatchInfo" in outk["destination"][0]["envelope"], "kinesis run wrote no Kinesis envelope"
    print(json.dumps({
        "esm_sim_records_per_s": round(100_000 / t100k),
        "simulate_10k_s": round(t10k, 3),
        "esm_sim_records_per_s_pf4": round(100_000 / tpf4),
        "esm_sim_kinesis_records_per_s": round(100_000 / tkin),
        "invocations_100k": len(out["invocations"]),
    }))


if __name__ == "__main__":
    main()
