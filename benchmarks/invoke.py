"""Benchmark: what a warm local invoke costs, and how long the embedded backend takes to start.

Prints JSON. The overhead is the full wall time of invoking a no-op handler (so it includes the
runtime's own bootstrap work, not just the harness), over ~1000 warm invokes, for a Python
function (awslambdaric) and a Node.js one (nodejs24.x, aws-lambda-ric), interleaved, three rounds.
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


_NOOP = {
    "python": ("noop.py", "def handler(event, context):\n    return None\n", "noop.handler", None),
    "node": ("noop.js", "exports.handler = async () => null;\n", "noop.handler", "nodejs24.x"),
}


def _warm_samples(rt: LocalRuntime, name: str, invokes: int) -> list[float]:
    samples = []
    for _ in range(invokes):
        began = time.perf_counter()
        result = rt.invoke(name, b'{"k": "v"}')
        samples.append((time.perf_counter() - began) * 1000.0)
        if result.function_error is not None:
            raise SystemExit(f"no-op handler {name} failed: {result.payload!r}")
    return samples


def measure_invoke(invokes: int, runs: int = 3) -> dict[str, float]:
    """Python and Node no-op invokes, interleaved in `runs` rounds; each p50 is the median of the rounds.

    Interleaving keeps a noisy neighbour on a shared machine from landing on one language only.
    """
    with tempfile.TemporaryDirectory() as tmp:
        with LocalRuntime() as rt:
            for lang, (fname, text, handler, runtime) in _NOOP.items():
                code = Path(tmp) / lang
                code.mkdir()
                (code / fname).write_text(text)
                kwargs = {"runtime": runtime} if runtime else {}
                rt.register(FunctionSpec(f"noop-{lang}", code, handler, **kwargs))
                for _ in range(50):  # warm-up: the cold start and first-call caches are not overhead
                    rt.invoke(f"noop-{lang}", b"{}")
            rounds: dict[str, list[list[float]]] = {lang: [] for lang in _NOOP}
            for _ in range(runs):
                for lang in _NOOP:
                    rounds[lang].append(sorted(_warm_samples(rt, f"noop-{lang}", invokes)))
    python = rounds["python"]
    everything = sorted(v for r in python for v in r)
    return {
        "invoke_overhead_ms_p50": round(statistics.median(_percentile(r, 0.50) for r in python), 3),
        "invoke_overhead_ms_p99": round(statistics.median(_percentile(r, 0.99) for r in python), 3),
        "invoke_overhead_ms_mean": round(statistics.fmean(everything), 3),
        "invoke_overhead_node_ms_p50": round(statistics.median(_percentile(r, 0.50) for r in rounds["node"]), 3),
        "invoke_overhead_node_ms_p99": round(statistics.median(_percentile(r, 0.99) for r in rounds["node"]), 3),
        "invokes": invokes,
        "invoke_rounds": runs,
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
