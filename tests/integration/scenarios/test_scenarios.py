"""Every scenario of scenarios/ as one pytest test (ids = scenario names), on --backend."""

from __future__ import annotations

import pytest

from harness.scenarios import load_scenarios, run_scenario
from harness.scenarios.junit import failure_message

SCENARIOS = load_scenarios()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario, request: pytest.FixtureRequest) -> None:
    result = run_scenario(scenario, backend=request.config.getoption("--backend"))
    assert result["error"] is None, result["error"]
    assert result["conservation"]["lost"] == 0, f"lost records: {result['conservation']['lost_records']}"
    assert result["verdict"] == "pass", f"{scenario.name} differs from AWS:\n{failure_message(result)}"
