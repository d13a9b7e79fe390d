"""The CI workflow: the jobs the README promises, with actions pinned by major version; and the
repository's own action (action.yml), which the workflow runs on the examples as a team would."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = ROOT / ".github" / "workflows" / "resilience.yml"
ACTION = ROOT / "action.yml"


def _load() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _uses(job: dict) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


def test_every_action_is_pinned_by_major() -> None:
    allowed = {"actions/checkout@v4", "actions/setup-python@v5", "actions/setup-node@v4", "actions/upload-artifact@v4"}
    for name, job in _load()["jobs"].items():
        if name == "action-on-examples":
            assert _uses(job) == ["actions/checkout@v4", "./"], name  # the action sets up and uploads itself
            continue
        assert set(_uses(job)) <= allowed, name
        assert set(_uses(job)) == allowed, f"{name} should check out, set up Python and Node, and upload"
    action_uses = {step["uses"] for step in yaml.safe_load(ACTION.read_text())["runs"]["steps"] if "uses" in step}
    assert action_uses <= allowed


def test_embedded_job_runs_make_test_with_python_311_and_node_20() -> None:
    job = _load()["jobs"]["embedded"]
    assert job["runs-on"].startswith("ubuntu")
    setup = {s["uses"]: s.get("with", {}) for s in job["steps"] if "uses" in s}
    assert setup["actions/setup-python@v5"]["python-version"] == "3.11"
    assert setup["actions/setup-node@v4"]["node-version"] == "20"
    assert ".ci/run" in _runs(job) and "make test" in (ROOT / ".ci" / "run").read_text()
    upload = setup["actions/upload-artifact@v4"]
    assert upload["path"] == "reports/"


def test_localstack_job_starts_compose_waits_and_runs_the_docker_tests() -> None:
    job = _load()["jobs"]["localstack"]
    runs = _runs(job)
    start = runs.index("docker compose up -d localstack")
    wait = runs.index("/_localstack/health")
    test = runs.index(
        ".venv/bin/python -m pytest tests/localstack --backend localstack --junitxml reports/junit-localstack.xml"
    )
    assert start < wait < test
    upload = [s for s in job["steps"] if s.get("uses") == "actions/upload-artifact@v4"][0]
    assert upload["if"] == "always()" and upload["with"]["path"] == "reports/"
    assert "docker compose down" in runs


def test_the_action_installs_runs_with_junit_and_report_and_is_used_on_the_examples() -> None:
    action = yaml.safe_load(ACTION.read_text())
    assert action["runs"]["using"] == "composite"
    assert {"version", "working-directory", "args"} <= set(action["inputs"])
    runs = "\n".join(step.get("run", "") for step in action["runs"]["steps"])
    for part in ("shardproof scenarios run $ARGS", "--junit", "--report-dir", '--summary "$GITHUB_STEP_SUMMARY"',
                 "--github-annotations", "pip install"):
        assert part in runs, part
    upload = [s for s in action["runs"]["steps"] if s.get("uses") == "actions/upload-artifact@v4"][0]
    assert upload["if"] == "always()"
    job = _load()["jobs"]["action-on-examples"]
    examples = {entry["example"] for entry in job["strategy"]["matrix"]["include"]}
    assert examples and all((ROOT / "examples" / e / "shardproof.toml").is_file() for e in examples)
    step = [s for s in job["steps"] if s.get("uses") == "./"][0]
    assert step["with"]["working-directory"] == "examples/${{ matrix.example }}"
