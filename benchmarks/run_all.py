"""Run every benchmark script in this folder and merge their JSON into reports/bench.json.

Each script prints one JSON object on its last stdout line; a script that fails is reported
under "errors" with its stderr tail, and the others still run. Several scripts report
`peak_rss_mb`/`peak_rss_children_mb`: the merged file keeps the largest (the figure the memory
target is about) and each script's own under `peak_rss_mb_by_script`, so no script's value is lost.
A key that issue 7 requires and no script produced is an error too ("missing_keys"), so a
renamed or dropped metric cannot pass unnoticed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEAK_KEYS = ("peak_rss_mb", "peak_rss_children_mb")
REQUIRED_KEYS = ("invoke_overhead_ms_p50", "invoke_overhead_ms_p99", "invoke_overhead_node_ms_p50", "backend_start_s",
                 "esm_sim_records_per_s", "esm_sim_kinesis_records_per_s",
                 "e2e_records_per_s", "e2e_ceiling_records_per_s", "e2e_ratio", "e2e_engine_ratio",
                 "e2e_noop_consumer_ratio", "suite_wall_s",
                 "replay_records_per_s", "explore_grid_s", "peak_rss_mb")


def merge(results: dict[str, dict[str, Any]], errors: dict[str, str]) -> dict[str, Any]:
    """One bench.json from each script's result (by script name) and the scripts that failed."""
    merged: dict[str, Any] = {}
    rss: dict[str, dict[str, float]] = {}
    for name, result in results.items():
        rest = dict(result)
        rss[name] = {k: rest.pop(k) for k in PEAK_KEYS if k in rest}
        merged.update(rest)
    for key in PEAK_KEYS:
        # load.py names its own figure load_<key> (it also reports the per-run peaks); it counts too.
        values = [r[key] for r in rss.values() if key in r] + ([merged[f"load_{key}"]] if f"load_{key}" in merged else [])
        if values:
            merged[key] = max(values)
    merged["peak_rss_mb_by_script"] = rss
    errors = dict(errors)
    missing = [k for k in REQUIRED_KEYS if k not in merged]
    if missing:
        errors["missing_keys"] = ", ".join(missing)
    if errors:
        merged["errors"] = errors
    return merged


def main() -> int:
    results: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for script in sorted(HERE.glob("*.py")):
        if script.name == Path(__file__).name:
            continue
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=HERE.parent)
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        try:
            if proc.returncode != 0 or not lines:
                raise ValueError(f"exit {proc.returncode}")
            result = json.loads(lines[-1])
            if not isinstance(result, dict):
                raise ValueError(f"last stdout line is JSON {type(result).__name__}, not an object")
            results[script.stem] = result
        except ValueError as exc:
            errors[script.name] = f"{exc}: {proc.stderr[-2000:]}"
    merged = merge(results, errors)
    out = HERE.parent / "reports" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(merged, indent=2))
    print(json.dumps(merged, indent=2))
    return 1 if "errors" in merged else 0


if __name__ == "__main__":
    sys.exit(main())
