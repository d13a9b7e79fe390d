"""benchmarks/run_all.py merges each script's JSON into reports/bench.json (issue 7): the peak RSS is
the largest any script saw, not whichever script ran last, and a required key nobody produced is an error."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run_all():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_run_all", ROOT / "benchmarks" / "run_all.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _complete(run_all) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {k: 1.0 for k in run_all.REQUIRED_KEYS}


def test_peak_rss_is_the_largest_over_scripts_and_each_is_kept() -> None:
    run_all = _run_all()
    merged = run_all.merge({"load": {**_complete(run_all), "peak_rss_mb": 700.0, "peak_rss_children_mb": 90.0},
                            "suite": {"suite_wall_s": 170.0, "peak_rss_mb": 120.0}}, {})
    assert merged["peak_rss_mb"] == 700.0
    assert merged["peak_rss_children_mb"] == 90.0
    assert merged["peak_rss_mb_by_script"]["suite"] == {"peak_rss_mb": 120.0}
    assert merged["suite_wall_s"] == 170.0
    assert "errors" not in merged


def test_a_required_key_no_script_produced_is_an_error_naming_it() -> None:
    run_all = _run_all()
    partial = _complete(run_all)
    del partial["e2e_ratio"]
    merged = run_all.merge({"e2e": partial}, {"replay.py": "exit 1: boom"})
    assert merged["errors"]["missing_keys"] == "e2e_ratio"
    assert merged["errors"]["replay.py"] == "exit 1: boom"


def test_the_load_runs_peak_counts_toward_peak_rss() -> None:
    run_all = _run_all()
    merged = run_all.merge({"e2e": {**_complete(run_all), "peak_rss_mb": 210.0},
                            "load": {"load_peak_rss_mb": 870.0}}, {})
    assert merged["peak_rss_mb"] == 870.0
