"""What CI shows of a run: the Markdown verdict table and ::error annotations on the scenario's file and line."""

from __future__ import annotations

from pathlib import Path

from harness.scenarios.ci_outputs import github_annotations, scenario_locations, summary_markdown
from harness.scenarios.loader import load_file

RESULT = {
    "run": {"backend": "embedded", "wall_s": 3.25},
    "scenarios": [
        {"name": "fine", "verdict": "pass", "error": None, "conservation": {"lost": 0},
         "checks": [{"name": "conservation", "passed": True, "expected": 0, "observed": 0, "spec": ""}]},
        {"name": "broken", "verdict": "fail", "error": None, "conservation": {"lost": 1},
         "checks": [{"name": "conservation", "passed": False, "expected": "lost 0", "observed": "lost 1, a|b",
                     "spec": "0.1"},
                    {"name": "order", "passed": True, "expected": 1, "observed": 1, "spec": ""}]},
    ],
}


def _scenarios(tmp_path: Path) -> list:
    path = tmp_path / "scenarios" / "two.yaml"
    path.parent.mkdir()
    path.write_text("# two scenarios\n- name: fine\n  items: [{pk: a}]\n\n- name: broken\n  items: [{pk: b}]\n")
    return load_file(path)


def test_summary_is_a_markdown_table_with_the_failing_check(tmp_path: Path) -> None:
    text = summary_markdown(RESULT)
    assert text.startswith("### shardproof: 1/2 scenarios passed on embedded (3.2 s)")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[1] == "| fine | ✅ pass | 1/1 | 0 |  |"
    assert rows[2].startswith("| broken | ❌ fail | 1/2 | 1 | conservation [spec 0.1]: expected 'lost 0'")
    assert "a\\|b" in rows[2]  # a pipe in a value does not break the table


def test_an_annotation_per_failing_check_on_the_scenarios_own_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    locations = scenario_locations(_scenarios(tmp_path))
    assert locations == {"fine": ("scenarios/two.yaml", 2), "broken": ("scenarios/two.yaml", 5)}
    (line,) = github_annotations(RESULT, locations)
    assert line.startswith("::error file=scenarios/two.yaml,line=5,title=scenario broken::conservation [spec 0.1]")
    errored = {"scenarios": [{"name": "broken", "verdict": "error", "error": "deploy failed: 100%\nbad", "checks": []}]}
    assert github_annotations(errored, locations) == [
        "::error file=scenarios/two.yaml,line=5,title=scenario broken%3A error::deploy failed: 100%25%0Abad"]
