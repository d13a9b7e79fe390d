"""The CI workflow: the two jobs the README promises, with actions pinned by major version."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[3] / ".github" / "workflows" / "resilience.yml"


def _load() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _uses(job: dict) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


def test_every_action_is_pinned_by_major() -> None:
    allowed = {"actions/checkout@v4", "actions/setup-python@v5", "actions/setup-node@v4", "actions/upload-artifact@v4"}
    for name, job in _load()["jobs"].items():
        assert set(_uses(job)) <= allowed, name
        assert set(_uses(job)) == allowed, f"{name} should check out, set up Python and Node, and upload"


def test_embedded_job_runs_make_test_with_python_311_and_node_20() -> None:
    job = _load()["jobs"]["embedded"]
    assert job["runs-on"].startswith("ubuntu")
    setup = {s["uses"]: s.get("with", {}) for s in job["steps"] if "uses" in s}
    assert setup["actions/setup-python@v5"]["python-version"] == "3.11"
    assert setup["actions/setup-node@v4"]["node-version"] == "20"
    assert "make test" in _runs(job)
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
