"""Judging a scenario run: every check, from what the run showed, against what AWS does.

One entry, `judge(run, observation, predicted)`: the default checks every scenario gets
(defaults.py), the scenario's `expect` block (expect_block.py), its own checks (Python scenario
files, often built from expect.py), the oracle comparison (oracle.py) and the conservation audit
(conservation.py). Judging reads only the Observation (observation.py) and the prediction, never
the engine's internals or a stack's domain, so the local and the AWS runner judge alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.judging import defaults
from harness.judging.conservation import conservation, conservation_checks
from harness.judging.expect_block import check_expect, explicit_checks
from harness.judging.fidelity import fidelity
from harness.judging.observation import FailureObject, Observation, report_batch_item_failures
from harness.judging.oracle import compare
from harness.verdict import Check

CONSERVATION_KEYS = ("injected", "processed", "filtered", "in_failure_records", "dropped", "lost", "lost_records")


@dataclass(frozen=True)
class Judgement:
    """Every check of a run, who is to blame when one fails, and the conservation block of the result."""

    checks: list[Check]
    blame: str | None  # "consumer": it did not respond as its scenario declares; None otherwise
    conservation: dict[str, Any]  # CONSERVATION_KEYS, as the result JSON records them

    @property
    def verdict(self) -> str:
        return "pass" if all(c.passed for c in self.checks) else "fail"


def judge(run: Any, observation: Observation, predicted: dict[str, Any]) -> Judgement:
    """Judge one run. `run` is the harness.scenarios ScenarioRun (its `scenario` and deployed `target`
    are read; a Python scenario's `checks(observation, run)` gets it too); `predicted` is the oracle's."""
    scenario, target, obs = run.scenario, run.target, observation
    expect = check_expect(scenario.expect, poison=scenario.poison, count=scenario.count)
    handler = defaults.handler_checks(scenario, obs)
    checks: list[Check] = [*defaults.stream_checks(obs), *handler]
    checks.extend(defaults.poison_checks(scenario, obs, expect))
    checks.extend(defaults.isolation_checks(scenario, obs, predicted, expect))
    checks.extend(defaults.envelope_checks(obs, target.mapping_uuid))
    checks.extend(defaults.order_checks(obs, expect))
    checks.extend(defaults.failure_handler_checks(obs, target.failure_handlers, expect))
    checks.extend(defaults.alert_checks(obs, target.alert_topics + target.alert_queues, expect))
    checks.extend(defaults.replay_checks(obs, expect))
    checks.extend(explicit_checks(expect, obs))
    if expect.get("oracle") is not False:
        checks.extend(compare(scenario, predicted, obs))
    if scenario.checks:
        checks.extend(scenario.checks(obs, run))
    cons = conservation(obs)
    checks.extend(conservation_checks(cons))
    blame = "consumer" if any(not c.passed for c in handler) else None
    return Judgement(checks=checks, blame=blame, conservation={k: cons[k] for k in CONSERVATION_KEYS})


__all__ = ["CONSERVATION_KEYS", "FailureObject", "Judgement", "Observation", "check_expect", "fidelity", "judge",
           "report_batch_item_failures"]
