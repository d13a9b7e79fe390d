"""Simulation over a long stream: 1,000,000 records on 8 shards (BatchSize 100, 1% failing,
bisect, 2 retries, S3 destination). Prints JSON: esm_sim_1m_records_per_s and esm_sim_1m_peak_mb
(the process's peak RSS). Counted records are made when read and the report is built as the
journal is written, so what grows with the stream is the output itself (about 100 bytes a record:
the processed indexes and each invocation's record list)."""

from __future__ import annotations

import json
import resource
import time

from harness.esm import run_simulation

N = 1_000_000


def main() -> None:
    spec = {"mapping": {"BatchSize": 100, "MaximumRetryAttempts": 2, "BisectBatchOnFunctionError": True,
                        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::failures"}}},
            "records": N, "shards": 8, "handler": {"fail": list(range(0, N, 100)), "mode": "raise"}}
    began = time.perf_counter()
    out = run_simulation(spec)
    elapsed = time.perf_counter() - began
    assert len(out["destination"]) == N // 100 and len(out["processed"]) == N - N // 100, "1M run lost records"
    print(json.dumps({"esm_sim_1m_records_per_s": round(N / elapsed),
                      "esm_sim_1m_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
