"""Scenario `faults:` end to end on the embedded backend, over examples/kinesis (a SAM template:
no synth wait): the unmodified consumer fails exactly the chosen records, the verdict matches the
oracle (bisect, retries counted, throttles not, destination outage, failure-handler fault), and a
fault under settings that lose a record fails the scenario naming the item."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.deploy.sources import SourceSpec, open_source
from harness.scenarios import load_scenarios, run_scenario
from harness.scenarios.junit import failure_message

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kinesis"
pytestmark = pytest.mark.timeout(300)


def _source(tmp_path: Path):
    return open_source(SourceSpec("template", EXAMPLE / "template.yaml"), cache_dir=tmp_path / "synth")


def _scenario(name: str):
    return next(s for s in load_scenarios(EXAMPLE / "scenarios") if s.name == name)


@pytest.mark.parametrize("name", ["kinesis-fault-one-item", "kinesis-faults-throttle-outage-handler"])
def test_fault_scenarios_pass_and_lose_nothing_spec_1_2_1_7_3(tmp_path: Path, name: str) -> None:
    result = run_scenario(_scenario(name), source=_source(tmp_path))
    assert result["error"] is None, result["error"]
    assert result["verdict"] == "pass", failure_message(result)
    assert result["conservation"]["lost"] == 0
    faults = result["observed"]["faults"]
    assert faults and all(f["fault_index"] is not None for f in faults)
    assert any(e["kind"] == "fault_injected" for e in result["journal"])


def test_throttles_are_not_counted_and_the_outage_drops_one_record_spec_1_7_3(tmp_path: Path) -> None:
    result = run_scenario(_scenario("kinesis-faults-throttle-outage-handler"), source=_source(tmp_path))
    observed = result["observed"]
    throttled = [i for i in observed["invocations"] if i["outcome"] == "service_error"]
    assert len(throttled) == 2 and all(i["fault"] == "throttle" for i in throttled)
    # spec 0.2: 1 + MaximumRetryAttempts (2) counted invokes; the two throttles are not among them
    assert [d["approximateInvokeCount"] for d in observed["destination"]] == [3]
    assert [d["records"] for d in observed["dropped"]] == [[1]] and observed["destination_delivery_failures"] == 1


def test_a_partial_fault_the_mapping_ignores_fails_the_scenario_naming_the_item_spec_2_2(tmp_path: Path) -> None:
    """The Payments mapping has no ReportBatchItemFailures: a record the (injected) partial response
    reports failed is committed as processed, so the item the scenario meant to fail is not failed."""
    sc = _scenario("kinesis-fault-one-item")
    sc = dataclasses.replace(sc, name="kinesis-fault-ignored-partial", expect={},
                             faults=({"fault": "partial", "items": [3]},))
    result = run_scenario(sc, source=_source(tmp_path))
    assert result["verdict"] == "fail"
    poison = next(c for c in result["checks"] if c["name"].startswith("every poison item ends"))
    assert not poison["passed"] and "3" in str(poison["observed"]) and "ignores batchItemFailures" in str(poison)
