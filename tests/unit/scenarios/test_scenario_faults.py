"""A scenario file's `faults:`: refused before anything deploys when it names an unknown function,
item or field (the error names the file, the fault and the field); items a fault fails on every
attempt become poison for the judge unless the file sets `poison:`."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.judging import faults as judging_faults
from harness.scenarios import faults as scenario_faults
from harness.scenarios.loader import load_file
from harness.scenarios.model import ScenarioError

BASE = "name: f\nitems:\n  - {id: a}\n  - {id: b}\n  - {id: c}\n"


def _load(tmp_path: Path, text: str):
    p = tmp_path / "s.yaml"
    p.write_text(BASE + text)
    return load_file(p)[0]


@pytest.mark.parametrize("faults, field", [
    ("  - {fault: error, items: [7]}", "items"),
    ("  - {fault: error, itemz: [1]}", "itemz"),
    ("  - {fault: sabotage}", "fault"),
    ("  - {fault: latency}", "latency_ms"),
])
def test_a_bad_fault_is_refused_naming_the_file_the_fault_and_the_field(tmp_path, faults, field):
    with pytest.raises(ScenarioError) as info:
        _load(tmp_path, "faults:\n  - {fault: error, items: [0]}\n" + faults + "\n")
    msg = str(info.value)
    assert str(tmp_path / "s.yaml") in msg and "faults[1]" in msg and f"'{field}'" in msg


def _desc(*lids):
    fns = tuple(SimpleNamespace(logical_id=lid) for lid in lids)
    pipeline = SimpleNamespace(consumer=SimpleNamespace(logical_id="ConsumerFnA1B2C3D4"),
                               mapping=SimpleNamespace(destination=None, logical_id="Map"))
    return SimpleNamespace(functions=fns, stack_name="Stack"), pipeline


def test_function_names_a_logical_id_or_a_cdk_construct_id_default_the_consumer(tmp_path):
    sc = _load(tmp_path, "faults:\n  - {fault: error, items: [1]}\n  - {fault: crash, function: Alerter}\n")
    desc, pipeline = _desc("ConsumerFnA1B2C3D4", "AlerterDEADBEEF")
    entries = scenario_faults.resolve_functions(sc, desc, pipeline)
    assert [e["function"] for e in entries] == ["ConsumerFnA1B2C3D4", "AlerterDEADBEEF"]


def test_an_unknown_function_is_refused_before_deploy_naming_the_file_fault_and_field(tmp_path):
    sc = _load(tmp_path, "faults:\n  - {fault: error, function: Nope}\n")
    desc, pipeline = _desc("ConsumerFnA1B2C3D4")
    with pytest.raises(ScenarioError, match=r"s\.yaml.*faults\[0\]: field 'function': 'Nope' names no function"):
        scenario_faults.resolve_functions(sc, desc, pipeline)


def test_a_destination_outage_needs_a_destination(tmp_path):
    sc = _load(tmp_path, "faults:\n  - {destination: unavailable, times: 1}\n")
    desc, pipeline = _desc("ConsumerFnA1B2C3D4")
    with pytest.raises(ScenarioError, match=r"faults\[0\]: field 'destination'"):
        scenario_faults.resolve_functions(sc, desc, pipeline)


def _stream(n):
    return [SimpleNamespace(index=i, record={"eventID": f"e{i}", "dynamodb": {"NewImage": {"id": {"S": "abc"[i]}}}})
            for i in range(n)]


def test_items_failed_every_time_are_poison_unless_the_file_sets_poison(tmp_path):
    faults = ("faults:\n  - {fault: error, items: [0]}\n  - {fault: timeout, items: [1], times: 2}\n"
              "  - {fault: partial, match: {dynamodb: {NewImage: {id: {S: [c]}}}}}\n")
    sc = _load(tmp_path, faults)
    desc, pipeline = _desc("ConsumerFnA1B2C3D4")
    entries = scenario_faults.resolve_functions(sc, desc, pipeline)
    assert judging_faults.fault_poison(sc, entries, "ConsumerFnA1B2C3D4", _stream(3)) == [0, 2]
    assert judging_faults.flaky_items(sc, entries, "ConsumerFnA1B2C3D4") == [1]
    declared = _load(tmp_path, "poison: []\n" + faults)
    assert judging_faults.fault_poison(declared, entries, "ConsumerFnA1B2C3D4", _stream(3)) == []


def test_oracle_faults_keep_the_consumers_with_items_as_stream_positions(tmp_path):
    entries = [{"fault": "error", "function": "C", "items": [2]}, {"fault": "crash", "function": "Other"},
               {"destination": "unavailable", "times": 1}]
    stream = [SimpleNamespace(index=i) for i in (0, 2, 1)]
    assert scenario_faults.oracle_faults(entries, "C", stream) == [{"fault": "error", "items": [1]},
                                                                 {"destination": "unavailable", "times": 1}]
