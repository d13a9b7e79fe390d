"""docker-compose.yml: parsed as YAML (no engine needed), and by a compose client when one is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest
import yaml

from harness.backends import floci
from harness.backends.localstack import CONTAINER_SERVICES, PINNED_IMAGE

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _env(service: dict) -> dict:
    env = service.get("environment", {})
    if isinstance(env, list):  # list form: "K=V" or a bare "K" (pass-through)
        return {item.split("=", 1)[0]: (item.split("=", 1)[1] if "=" in item else None) for item in env}
    return env


def test_localstack_image_is_pinned_to_the_no_token_tag_with_override(compose: dict) -> None:
    image = compose["services"]["localstack"]["image"]
    assert image == "${LOCALSTACK_IMAGE:-" + PINNED_IMAGE + "}"
    assert PINNED_IMAGE == "localstack/localstack:4.14.0"


def test_auth_token_is_passed_through_only_when_set(compose: dict) -> None:
    env = _env(compose["services"]["localstack"])
    assert "LOCALSTACK_AUTH_TOKEN" in env
    assert env["LOCALSTACK_AUTH_TOKEN"] is None, "bare key = copied from the host when set, absent otherwise"


def test_services_cover_what_the_backend_requires(compose: dict) -> None:
    env = _env(compose["services"]["localstack"])
    assert env["SERVICES"].split(",") == list(CONTAINER_SERVICES)


def test_port_bound_to_loopback_and_docker_socket_mounted(compose: dict) -> None:
    svc = compose["services"]["localstack"]
    assert svc["ports"] == ["127.0.0.1:4566:4566"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in svc["volumes"]


def test_healthcheck_probes_localstack_health(compose: dict) -> None:
    check = compose["services"]["localstack"]["healthcheck"]
    assert "/_localstack/health" in " ".join(check["test"])
    assert check["retries"] >= 10


def test_harness_service_runs_pytest_against_localstack(compose: dict) -> None:
    svc = compose["services"]["harness"]
    assert svc["build"] == {"context": ".", "dockerfile": "docker/harness.Dockerfile"}
    assert (ROOT / svc["build"]["dockerfile"]).is_file()
    assert svc["depends_on"]["localstack"]["condition"] == "service_healthy"
    assert _env(svc)["HARNESS_LOCALSTACK_URL"] == "http://localstack:4566"
    command = svc["command"]
    assert command[:3] == ["python", "-m", "pytest"]
    assert command[command.index("--backend") + 1] == "localstack"


def test_floci_only_with_its_profile_so_plain_up_is_unchanged(compose: dict) -> None:
    services = compose["services"]
    assert services["floci"]["profiles"] == ["floci"]
    assert "profiles" not in services["localstack"] and "profiles" not in services["harness"]


def test_floci_image_pinned_with_override_and_port_matches_the_backend(compose: dict) -> None:
    svc = compose["services"]["floci"]
    assert svc["image"] == "${FLOCI_IMAGE:-" + floci.PINNED_IMAGE + "}"
    host_port = urllib.parse.urlsplit(floci.DEFAULT_URL).port
    assert svc["ports"] == [f"127.0.0.1:{host_port}:{floci.CONTAINER_PORT}"]
    assert host_port != 4566, "LocalStack's host port: both must be able to run at once"
    assert "/var/run/docker.sock:/var/run/docker.sock" in svc["volumes"] and svc["user"] == "root"
    assert _env(svc)["FLOCI_HOSTNAME"] == "floci"


def test_harness_dockerfile_installs_the_project_on_python_311() -> None:
    text = (ROOT / "docker" / "harness.Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert "pip install -e '.[test]'" in text


def _compose_cli() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.parametrize("token", [None, "ls-token-123"])
def test_compose_client_accepts_the_file(token: str | None) -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no compose client (docker compose / docker-compose) installed; the YAML tests above still ran")
    env = {k: v for k, v in os.environ.items() if k not in ("LOCALSTACK_AUTH_TOKEN", "LOCALSTACK_IMAGE")}
    if token:
        env["LOCALSTACK_AUTH_TOKEN"] = token
        env["LOCALSTACK_IMAGE"] = "localstack/localstack-pro:2026.3.0"
    proc = subprocess.run([*cli, "-f", str(COMPOSE), "config"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    resolved = yaml.safe_load(proc.stdout)["services"]["localstack"]
    token_value = resolved["environment"].get("LOCALSTACK_AUTH_TOKEN")
    if token:
        assert token_value == token
        assert resolved["image"] == "localstack/localstack-pro:2026.3.0"
    else:
        assert token_value in (None, "")
        assert resolved["image"] == PINNED_IMAGE


@pytest.mark.parametrize("profile", [None, "floci"])
def test_compose_client_starts_floci_only_with_the_profile(profile: str | None) -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no compose client (docker compose / docker-compose) installed; the YAML tests above still ran")
    env = {k: v for k, v in os.environ.items() if k != "FLOCI_IMAGE"}
    args = [*cli, "-f", str(COMPOSE)] + (["--profile", profile] if profile else []) + ["config"]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    services = yaml.safe_load(proc.stdout)["services"]
    # Compose v2 leaves a profiled service out of `config` unless its profile is active; v1 (1.29)
    # lists it with its `profiles`, which is what keeps a plain `up` from starting it.
    if profile or "floci" in services:
        assert services["floci"]["image"] == floci.PINNED_IMAGE
        assert services["floci"].get("profiles", ["floci"]) == ["floci"]
    assert "profiles" not in services["localstack"]
