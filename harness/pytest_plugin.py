"""pytest plugin (registered through the `pytest11` entry point): backend choice and markers.

`--backend embedded|localstack|aws` picks where integration tests and scenarios run.
Tests marked `docker` skip with a printed reason when no Docker engine answers; tests marked
`aws` skip unless HARNESS_AWS_TESTS=1 and credentials are present.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from harness.backends import BACKENDS


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness")
    group.addoption(
        "--backend",
        action="store",
        default=os.environ.get("HARNESS_BACKEND", "embedded"),
        choices=BACKENDS,
        help="where the stack runs for integration tests and scenarios (default: embedded)",
    )


def docker_unavailable_reason() -> str | None:
    """None when a Docker engine answers; otherwise why not, for the skip message."""
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    try:
        proc = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker engine did not answer: {exc}"
    if proc.returncode != 0:
        return f"docker engine did not answer: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'exit ' + str(proc.returncode)}"
    return None


def aws_unavailable_reason() -> str | None:
    if os.environ.get("HARNESS_AWS_TESTS") != "1":
        return "AWS tests are opt-in: set HARNESS_AWS_TESTS=1 with credentials in the environment"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    docker_reason: str | None = None
    docker_checked = False
    aws_reason = aws_unavailable_reason()
    for item in items:
        if item.get_closest_marker("docker"):
            if not docker_checked:
                docker_reason, docker_checked = docker_unavailable_reason(), True
            if docker_reason:
                item.add_marker(pytest.mark.skip(reason=f"needs Docker: {docker_reason}"))
        if item.get_closest_marker("aws") and aws_reason:
            item.add_marker(pytest.mark.skip(reason=aws_reason))
