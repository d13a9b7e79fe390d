"""Benchmark: what a warm local invoke costs, and how long the embedded backend takes to start.

Prints JSON. The overhead is the full wall time of invoking a no-op handler (so it includes the
runtime's own Python bootstrap work, not just the harness), over ~1000 warm invokes.
Usage: python benchmarks/invoke.py [--invokes N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.backends import get_backend  # noqa: E402
from harness.runtime import FunctionSpec, LocalRuntime  # noqa: E402


def _percentile(sorted_values: list[float], q: float) -> float:
    idx = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[idx]


def measure_invoke(invokes: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp)
        (code / "noop.py").write_text("def handler(event, context):\n    return None\n")
        with LocalRuntime() as rt:
            rt.register(FunctionSpec("noop", code, "noop.handler"))
            for _ in range(50):  # warm-up: the cold start and first-call caches are not overhead
                rt.invoke("noop", b"{}")
            samples = []
            for _ in range(invokes):
                began = time.perf_counter()
                result = rt.invoke("noop", b'{"k": "v"}')
                samples.append((time.perf_counter() - began) * 1000.0)
                if result.function_error is not None:
                    raise SystemExit(f"no-op handler failed: {result.payload!r}")
    samples.sort()
    return {
        "invoke_overhead_ms_p50": round(_percentile(samples, 0.50), 3),
        "invoke_overhead_ms_p99": round(_percentile(samples, 0.99), 3),
        "invoke_overhead_ms_mean": round(statistics.fmean(samples), 3),
        "invokes": invokes,
    }


def measure_backend_start() -> float:
    """get_backend("embedded").start() until healthy; moto is already imported by get_backend."""
    backend = get_backend("embedded")
    began = time.perf_counter()
    backend.start()
    elapsed = time.perf_counter() - began
    try:
        if not backend.healthy():
            raise SystemExit("embedded backend reported started but is not healthy")
    finally:
        backend.stop()
    return round(elapsed, 3)


_COLD_START = """
import time
began = time.perf_counter()
from harness.backends import get_backend
backend = get_backend("embedded")
backend.start()
elapsed = time.perf_counter() - began
assert backend.healthy()
backend.stop()
print(elapsed)
"""


def measure_backend_cold_start() -> float:
    """Same, in a fresh interpreter and including the import of moto: what `harness demo` pays."""
    out = subprocess.run(
        [sys.executable, "-c", _COLD_START], cwd=str(Path(__file__).resolve().parents[1]),
        capture_output=True, text=True, timeout=120, check=True,
    )
    return round(float(out.stdout.strip().splitlines()[-1]), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invokes", type=int, default=1000)
    args = parser.parse_args()
    if args.invokes < 1:
        parser.error("--invokes must be >= 1")
    out = measure_invoke(args.invokes)
    out["backend_start_s"] = measure_backend_start()
    out["backend_start_with_import_s"] = measure_backend_cold_start()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
