"""Scenario suite: declarative scenarios, run against a deployed pipeline, judged against the oracle.

Public surface: `Scenario`, `Mutation`, `load_scenarios`, `run_scenario`, `run_suite`.
"""

from harness.scenarios.loader import load_scenarios, select
from harness.scenarios.model import Mutation, Scenario, ScenarioError
from harness.scenarios.runner import ScenarioRun, run_scenario, run_suite

__all__ = ["Mutation", "Scenario", "ScenarioError", "ScenarioRun", "load_scenarios", "run_scenario", "run_suite",
           "select"]
