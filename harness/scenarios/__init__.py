"""Scenario suite: declarative scenarios, run against a deployed pipeline, judged (harness/judging).

Public surface: `Scenario`, `Mutation`, `load_scenarios`, `run_scenario`, `run_suite`, and `expect`,
the reusable checks a Python scenario file builds its `checks` from (harness/judging/expect.py).
"""

from harness.judging import expect
from harness.scenarios.loader import load_scenarios, select
from harness.scenarios.model import Mutation, Scenario, ScenarioError
from harness.scenarios.runner import run_scenario, run_suite
from harness.scenarios.scenario_run import ScenarioRun

__all__ = ["Mutation", "Scenario", "ScenarioError", "ScenarioRun", "expect", "load_scenarios", "run_scenario",
           "run_suite", "select"]
