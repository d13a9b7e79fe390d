"""Bad input gets an error naming the field at fault, and nothing is written (or overwritten)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.report import ReportInputError, write_report
from harness.report.model import anchor, validate


def _with(result: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    target: Any = result
    parts = path.split(".")
    for p in parts[:-1]:
        target = target[int(p)] if p.isdigit() else target[p]
    last = parts[-1]
    if value is KeyError:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return result


@pytest.mark.parametrize(("path", "value", "message"), [
    ("scenarios", {}, "scenarios: expected list"),
    ("scenarios.0.verdict", "passed", "scenario 'demo-bisect-poison'.verdict: expected one of pass|fail|error"),
    ("scenarios.0.name", KeyError, "scenarios[0].name: expected str"),
    ("scenarios.0.name", "", "scenarios[0].name: must not be empty"),
    ("scenarios.0.wall_s", "fast", "scenario 'demo-bisect-poison'.wall_s: expected int or float"),
    ("scenarios.0.checks.2.passed", "yes", "scenario 'demo-bisect-poison'.checks[2].passed: expected a boolean"),
    ("scenarios.0.conservation.lost", "2", "scenario 'demo-bisect-poison'.conservation.lost: expected int"),
    ("scenarios.0.conservation.injected", True, "scenario 'demo-bisect-poison'.conservation.injected: expected int"),
    ("scenarios.0.journal.3", "not an entry", "scenario 'demo-bisect-poison'.journal[3]: expected dict"),
    ("fidelity.1.status", "ok", "fidelity[1].status: expected one of matches|diverges|consumer-differs|not-run"),
    ("fidelity.1.backend", None, "fidelity[1].backend: expected str"),
    ("run.backend_info", [], "run.backend_info: expected dict"),
])
def test_bad_field_is_named(demo_result: dict[str, Any], path: str, value: Any, message: str) -> None:
    with pytest.raises(ReportInputError) as err:
        validate(_with(demo_result, path, value))
    assert message in str(err.value)


def test_not_a_dict() -> None:
    with pytest.raises(ReportInputError, match="result: expected dict, got list"):
        validate([])


def test_duplicate_scenario_names(demo_result: dict[str, Any]) -> None:
    demo_result["scenarios"].append(dict(demo_result["scenarios"][0]))
    with pytest.raises(ReportInputError, match=r"scenarios\[1\].name: duplicate scenario name 'demo-bisect-poison'"):
        validate(demo_result)


def test_bad_input_writes_nothing_and_keeps_old_report(tmp_path: Path, demo_result: dict[str, Any]) -> None:
    write_report(demo_result, tmp_path)
    before = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    demo_result["scenarios"][0]["verdict"] = "maybe"
    with pytest.raises(ReportInputError):
        write_report(demo_result, tmp_path)
    assert {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()} == before


def test_minimal_result_gets_defaults() -> None:
    out = validate({"scenarios": [{"name": "s", "verdict": "pass"}]})
    sc = out["scenarios"][0]
    assert sc["title"] == "s" and sc["checks"] == [] and sc["journal"] == [] and sc["conservation"] is None
    assert out["run"]["backend"] == "unknown" and out["fidelity"] == []


def test_anchor_is_a_safe_id() -> None:
    assert anchor(0, "Bisect: two <shards>") == "scenario-1-bisect-two-shards"
    assert anchor(4, "☃☃") == "scenario-5"
