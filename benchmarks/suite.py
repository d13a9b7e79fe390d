"""Scenario suite wall time on the embedded backend (budget: < 60 s on 2 cores).

Runs every scenario of scenarios/ sequentially, as `harness scenarios run` does, and prints one
JSON line: the suite's wall time, per-scenario wall times, and how many CDK contexts had to be
synthesized cold (a cold synth costs ~8 s each; the cache under .harness/synth makes reruns warm).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.scenarios import load_scenarios, run_suite  # noqa: E402
from harness.scenarios.runner import prewarm_synth  # noqa: E402


def main() -> int:
    scenarios = load_scenarios()
    began = time.perf_counter()
    cold = prewarm_synth(scenarios)  # what run_suite does first; timed apart to show the cache's share
    synth = time.perf_counter() - began
    result = run_suite(scenarios)
    wall = time.perf_counter() - began
    out = {
        "suite_wall_s": round(wall, 2),
        "suite_synth_s": round(synth, 2),
        "suite_scenarios": len(scenarios),
        "suite_passed": sum(1 for s in result["scenarios"] if s["verdict"] == "pass"),
        "suite_cold_synths": cold,
        "suite_scenario_wall_s": {s["name"]: s["wall_s"] for s in result["scenarios"]},
    }
    print(json.dumps(out))
    return 0 if out["suite_passed"] == len(scenarios) else 1


if __name__ == "__main__":
    sys.exit(main())
