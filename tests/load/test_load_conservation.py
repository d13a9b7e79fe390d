"""The load benchmark's conservation check, small enough for the default suite: every injected
record ends projected/processed, in a failure record, or dropped with a journal entry; lost = 0.

Only outcomes are asserted, never timing (the machine is shared). The end-to-end run (~10 s)
is the only test here that crosses moto, the engine, the runtime and both real functions with
1% poison at BatchSize 100; it is kept at 1,000 records for the suite's time budget.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from load import e2e_load, simulate_load  # type: ignore[import-not-found]  # noqa: E402


def test_simulate_2000_records_over_4_shards_loses_nothing():
    out = simulate_load(2000, shards=4)
    assert out["lost"] == 0
    assert out["poison_discarded"] == out["poison"] == 20 and out["good_discarded"] == 0
    assert out["processed"] == 1980 and out["destination_records"] == 20


@pytest.mark.timeout(180)
def test_e2e_1000_records_with_1_percent_poison_loses_nothing():
    out = e2e_load(1000, run="loadtest")
    assert out["lost"] == 0 and out["dropped"] == 0
    assert out["projected"] == 990 and out["in_failure_records"] == 10 and out["failure_objects"] == 10
    assert out["poison_projected"] == 0 and out["good_in_failure_records"] == 0
    assert out["failure_handler_delivered"] == 10, "every failure record reached the failure handler"
