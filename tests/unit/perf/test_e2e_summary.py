"""benchmarks/e2e.py: how rounds become the reported keys. Ratios are medians of paired per-round
ratios, and a ratio above 1 (a ceiling read below its pipeline) is explained on stderr."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _e2e():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "benchmarks"))  # e2e.py imports load.py beside it
    try:
        spec = importlib.util.spec_from_file_location("bench_e2e", ROOT / "benchmarks" / "e2e.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


def _real(e2e: float, direct: float) -> dict:
    return {"e2e": e2e, "e2e_settled": e2e * 0.9, "consumer_only": direct, "concurrency": "8", "pipeline_first": True}


def _noop(e2e: float, ceiling: float) -> dict:
    return {"noop_e2e": e2e, "ceiling": ceiling, "pipeline_first": True}


def test_ratios_are_medians_of_the_paired_rounds_not_ratios_of_medians(capsys) -> None:
    e2e = _e2e()
    out = e2e.summarise(3000, 9000, [_real(80, 100), _real(300, 400), _real(90, 100)],
                        [_noop(850, 1000), _noop(900, 1000), _noop(1800, 2000)])
    assert out["e2e_engine_ratio"] == 0.8  # per round 0.8, 0.75, 0.9; median(e2e)/median(direct) would be 0.9
    assert out["e2e_noop_consumer_ratio"] == 0.9
    assert out["e2e_consumer_only_records_per_s"] == 100 and out["e2e_to_last_checkpoint_records_per_s"] == 90
    assert out["e2e_ratio"] == round(81 / 1000, 3)  # settle-timed e2e median / ceiling median
    assert out["e2e_noop_records"] == 9000 and len(out["e2e_rounds"]) == 3
    assert capsys.readouterr().err == ""  # nothing above 1, nothing to explain


def test_a_ratio_above_one_is_explained_on_stderr(capsys) -> None:
    e2e = _e2e()
    e2e.summarise(3000, 9000, [_real(90, 100)] * 3, [_noop(1050, 1000), _noop(900, 1000), _noop(800, 700)])
    err = " ".join(capsys.readouterr().err.split())
    assert "e2e_noop_consumer_ratio: 2 of 3 round(s) above 1" in err
    assert "within the denominator's run-to-run spread" in err and "noise" in err
    assert "e2e_engine_ratio" not in err
