"""Scenario files over a team's own items (YAML, JSON, Python): what loads, and how a bad file is named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from harness.scenarios.loader import load_file, load_scenarios
from harness.scenarios.model import ScenarioError

GOOD = """
name: poison-isolated
title: A poison item is isolated
description: three orders, the second has no amount
items:
  - {PK: "order#1", amount: 10.10}
  - {PK: "order#2"}
  - $update: {PK: "order#1"}
    $set: {status: PAID}
  - $delete: {PK: "order#1"}
poison: [1]
context: {batchSize: 5, ratio: 0.5}
handler: partial-or-raise
expect: {failure_records: 1, condition: RetryAttemptsExhausted, approximate_invoke_count: 4, replayed: [1]}
after:
  - environment: {function: Consumer, set: {ACCEPT: "true"}}
  - replay: consumer
spec: ["2.1", 4]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_yaml_scenario_loads_with_decimals_and_every_field(tmp_path: Path) -> None:
    (sc,) = load_file(write(tmp_path, "01_poison.yaml", GOOD))
    assert sc.name == "poison-isolated" and sc.poison == (1,) and sc.handler == "partial-or-raise"
    assert sc.items[0] == {"PK": "order#1", "amount": Decimal("10.10")}  # exact, not a float
    assert sc.items[2] == {"$update": {"PK": "order#1"}, "$set": {"status": "PAID"}}
    assert sc.context == {"batchSize": 5, "ratio": 0.5}  # CDK context stays JSON
    assert sc.expect["approximate_invoke_count"] == 4 and sc.spec_sections == ("2.1", "4")
    assert sc.steps == ({"environment": {"function": "Consumer", "set": {"ACCEPT": "true"}}}, {"replay": "consumer"})
    assert sc.aws_exclusion() and "steps" in sc.aws_exclusion()
    assert sc.source_file and sc.source_file.endswith("01_poison.yaml")


def test_a_json_file_may_hold_several_scenarios(tmp_path: Path) -> None:
    text = '[{"name": "a", "items": [{"PK": "x", "n": 1.5}]}, {"name": "b", "items": [{"PK": "y"}], "poison": [0]}]'
    a, b = load_file(write(tmp_path, "two.json", text))
    assert (a.name, a.title, b.poison) == ("a", "a", (0,))
    assert a.items[0]["n"] == Decimal("1.5")


@pytest.mark.parametrize("text, message", [
    ("name: x\nitems: [{PK: a}]\npoison: [3]\n", "poison indexes [3] are not item indexes 0..0"),
    ("name: x\nitems: [{PK: a}]\nhandler: sometimes\n", "handler 'sometimes' is not one of raise, partial"),
    ("name: x\nitems: [{PK: a}]\ncolour: red\n", "field 'colour' is not a scenario field"),
    ("name: x\ntitle: t\n", "field 'items' is required"),
    ("name: x\nitems: []\n", "items must be a non-empty list"),
    ("name: x\nitems: [{PK: a}, 5]\n", "items[1]: an item must be a non-empty object"),
    ("name: x\nitems: [{$delete: {PK: a}, $set: {b: 1}}]\n", "items[0]: field '$set' is not allowed next to $delete"),
    ("name: x\nitems: [{$update: {PK: a}}]\n", "items[0]: $update needs $set"),
    ("name: x\nitems: [{$weird: 1}]\n", "items[0]: field '$weird': fields starting with '$' are reserved"),
    ("name: x\nitems: [{PK: a}]\nexpect: {failure_records: -1}\n", "expect.failure_records must be an integer >= 0"),
    ("name: x\nitems: [{PK: a}]\nexpect: {lost: 0}\n", "expect.lost is not an expectation"),
    ("name: x\nitems: [{PK: a}\n", "line 3 column 1: not valid YAML"),
    ("name: x\nitems: [{PK: a}]\nafter: {replay: consumer}\n", "field 'after' must be a list of steps"),
    ("name: x\nitems: [{PK: a}]\nafter: [{reboot: now}]\n", "after[0]: 'reboot' is not a step"),
    ("name: x\nitems: [{PK: a}]\nafter: [{replay: table}]\n", "after[0].replay: target 'table' is not one of consumer"),
    ("name: x\nitems: [{PK: a}]\nafter: [{environment: {function: F, set: {A: 1}}}]\n",
     "after[0].environment: 'set' must map variable names to strings"),
    ("name: x\nitems: [{PK: a}]\nafter: [{code: {function: F, path: fixed}}]\n", "after[0].code: needs 'path'"),
])
def test_a_bad_file_is_named_with_the_item_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ScenarioError) as err:
        load_file(path)
    assert message in str(err.value) and "bad.yaml" in str(err.value)


def test_python_scenarios_import_helpers_beside_them(tmp_path: Path) -> None:
    write(tmp_path, "_helpers.py", "def items():\n    return ({'PK': 'a'}, {'PK': 'b'})\n")
    write(tmp_path, "10_code.py", "from _helpers import items\nfrom harness.scenarios.model import Scenario\n"
                                  "SCENARIO = Scenario(name='code', title='t', items=items(), poison=(1,))\n")
    write(tmp_path, "20_data.yaml", "name: data\nitems: [{PK: z}]\n")
    names = [s.name for s in load_scenarios(tmp_path)]
    assert names == ["code", "data"]  # file-name order; _helpers.py is not a scenario


def test_the_same_name_twice_names_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: same\nitems: [{PK: a}]\n")
    write(tmp_path, "b.json", '{"name": "same", "items": [{"PK": "b"}]}')
    with pytest.raises(ScenarioError, match="defined twice: a.yaml and b.json"):
        load_scenarios(tmp_path)


def test_the_sample_scenarios_load_on_the_same_model() -> None:
    from harness.scenarios.loader import scenario_files

    folder = Path(__file__).resolve().parents[3] / "scenarios"
    scenarios = load_scenarios(folder)
    assert len(scenarios) == 13 and all(s.items for s in scenarios)
    assert not any(p.name.startswith("_") for p in scenario_files(folder))


@pytest.mark.parametrize("item, message", [
    ({"partitionKey": "k"}, "items[0]: field 'data' is required"),
    ({"data": 1}, "items[0]: field 'partitionKey' must be a string of 1 to 256 characters"),
    ({"partitionKey": "k" * 257, "data": 1}, "field 'partitionKey' must be a string of 1 to 256"),
    ({"partitionKey": "k", "data": 1, "shard": 0}, "items[0]: field 'shard' is not a record field"),
    ({"$delete": {"PK": "a"}}, "items[0]: field '$delete': a Kinesis stream takes records"),
    ({"partitionKey": "k", "data": 1, "explicitHashKey": "abc"}, "field 'explicitHashKey' must be a decimal string"),
])
def test_spec_10_a_kinesis_item_is_a_record_and_a_bad_one_is_named(item: dict, message: str) -> None:
    from harness.streams import StreamItemError
    from harness.streams.kinesis import KinesisWriter

    with pytest.raises(StreamItemError) as err:
        KinesisWriter().prepare([item], where="k.yaml")
    assert message in str(err.value)


def test_spec_10_kinesis_data_is_sent_as_utf8_text_or_json() -> None:
    from harness.esm.sources.kinesis import data_bytes
    from harness.streams.kinesis import KinesisWriter

    writes = KinesisWriter().prepare([{"partitionKey": "a", "data": {"amount": Decimal("1.50")}},
                                      {"partitionKey": "a", "data": "plain"}], where="k.yaml")
    assert [w.key for w in writes] == ["a", "a"] and writes[0].event == "aws:kinesis:record"
    assert data_bytes(writes[0].item["data"]) == b'{"amount":1.5}' and data_bytes("plain") == b"plain"


def test_yaml_rules_become_fidelity_rows(tmp_path: Path) -> None:
    (sc,) = load_file(write(tmp_path, "r.yaml", "name: r\nitems: [{PK: a}]\nrules:\n  - {rule: bisect isolates, spec: 2.1}\n"))
    assert sc.rules == (("bisect isolates", "2.1"),)
    with pytest.raises(ScenarioError, match="rules\\[0\\] must be an object with a 'rule'"):
        load_file(write(tmp_path, "bad.yaml", "name: r\nitems: [{PK: a}]\nrules: [bisect]\n"))
