"""LocalStackBackend against a fake LocalStack on loopback: readiness, capabilities, errors."""

from __future__ import annotations

import sys
import time
import types

import pytest

from harness.backends import BackendError, get_backend
from harness.backends.localstack import (
    DEFAULT_URL,
    LOCALSTACK_ACCOUNT_ID,
    PINNED_IMAGE,
    LocalStackBackend,
)


def test_get_backend_builds_localstack_without_touching_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_LOCALSTACK_URL", raising=False)
    backend = get_backend("localstack")
    assert isinstance(backend, LocalStackBackend)
    assert backend.endpoint_url == DEFAULT_URL == "http://127.0.0.1:4566"
    assert backend.account_id == LOCALSTACK_ACCOUNT_ID


def test_url_comes_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_LOCALSTACK_URL", "http://localstack:4566/")
    assert LocalStackBackend().endpoint_url == "http://localstack:4566"


@pytest.mark.parametrize("bad", ["localstack:4566", "ftp://x:1", "http://:4566", "http://h:port"])
def test_bad_url_names_the_variable(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("HARNESS_LOCALSTACK_URL", bad)
    with pytest.raises(BackendError, match="HARNESS_LOCALSTACK_URL"):
        LocalStackBackend()


def test_start_returns_once_ready_and_client_uses_endpoint(fake_localstack) -> None:
    backend = LocalStackBackend(url=fake_localstack.url, timeout=5)
    with backend:
        assert backend.healthy()
        assert backend.started_in_s is not None and backend.started_in_s < 2
        s3 = backend.client("s3")
        assert s3.meta.endpoint_url == fake_localstack.url
    # attach mode: stopping must not have touched the (foreign) LocalStack, which still answers
    assert backend.healthy()


def test_start_waits_through_startup_states(fake_localstack) -> None:
    booting = {"services": {"dynamodb": "initializing"}, "version": "4.14.0"}
    fake_localstack.health_script[:0] = [(503, "starting"), (200, booting), (200, booting)]
    backend = LocalStackBackend(url=fake_localstack.url, timeout=10)
    backend.start()
    assert fake_localstack.health_count() >= 4
    assert backend.healthy()


def test_not_answering_error_says_how_to_start_it(closed_port_url: str) -> None:
    backend = LocalStackBackend(url=closed_port_url, timeout=0.5)
    began = time.monotonic()
    with pytest.raises(BackendError) as err:
        backend.start()
    assert time.monotonic() - began < 3
    text = str(err.value)
    assert f"LocalStack did not answer at {closed_port_url} within 0.5s" in text
    assert "docker compose up -d" in text
    assert not backend.healthy()


def test_not_json_is_not_localstack(fake_localstack) -> None:
    fake_localstack.health_script[:] = [(200, "<html>hello</html>")]
    with pytest.raises(BackendError, match="did not answer.*not JSON"):
        LocalStackBackend(url=fake_localstack.url, timeout=0.3).start()


def test_disabled_required_service_fails_fast_naming_it(fake_localstack) -> None:
    services = {"dynamodb": "available", "lambda": "disabled"}
    fake_localstack.health_script[:] = [(200, {"services": services})]
    backend = LocalStackBackend(url=fake_localstack.url, timeout=30)
    began = time.monotonic()
    with pytest.raises(BackendError) as err:
        backend.start()
    assert time.monotonic() - began < 2, "a disabled service cannot recover; do not wait out the deadline"
    text = str(err.value)
    assert "lambda=disabled" in text and "SERVICES" in text
    assert "sqs" not in text, "absent services are waited for, only dead ones fail fast"
    assert "dynamodb=" not in text


def test_stuck_service_times_out_with_its_state(fake_localstack) -> None:
    stuck = dict(fake_localstack.health_script[0][1]["services"], dynamodb="initializing")
    fake_localstack.health_script[:] = [(200, {"services": stuck})]
    with pytest.raises(BackendError, match=r"answered but was not ready within 0\.4s: dynamodb=initializing"):
        LocalStackBackend(url=fake_localstack.url, timeout=0.4).start()


def test_capabilities_from_health_and_info(fake_localstack) -> None:
    caps = LocalStackBackend(url=fake_localstack.url).capabilities()
    assert caps.version == "4.14.0:abc123"
    assert caps.edition == "community"
    assert caps.license_activated is False
    assert caps.services["lambda"] == "available" and caps.services["kinesis"] == "disabled"


def test_capabilities_fall_back_to_health_without_info(fake_localstack) -> None:
    fake_localstack.info = (404, {"error": "nope"})
    fake_localstack.health_script[:] = [(200, {"services": {"s3": "running"}, "edition": "pro", "version": "2026.3.0"})]
    caps = LocalStackBackend(url=fake_localstack.url).capabilities()
    assert (caps.version, caps.edition, caps.license_activated) == ("2026.3.0", "pro", None)


def test_describe_includes_capabilities(fake_localstack) -> None:
    info = LocalStackBackend(url=fake_localstack.url).describe()
    assert info.name == "localstack" and info.endpoint_url == fake_localstack.url
    assert info.account_id == "000000000000"
    assert info.details["mode"] == "attach"
    assert info.details["capabilities"]["version"] == "4.14.0:abc123"


def test_describe_never_raises_and_keeps_the_probe_error(closed_port_url: str) -> None:
    info = LocalStackBackend(url=closed_port_url).describe()
    assert info.details["capabilities"] is None
    assert "docker compose up -d" in info.details["probe_error"]


def test_lambda_environment_inside_localstack_leaves_endpoint_to_localstack(fake_localstack) -> None:
    backend = LocalStackBackend(url=fake_localstack.url)
    # LocalStack injects AWS_ENDPOINT_URL (reachable from its Lambda containers) itself; the host URL would be wrong.
    assert backend.lambda_environment() == {}
    custom = LocalStackBackend(url=fake_localstack.url, lambda_endpoint_url="http://localstack:4566")
    assert custom.lambda_environment() == {"AWS_ENDPOINT_URL": "http://localstack:4566"}


def test_lambda_environment_for_local_runtime_points_at_the_host_url(fake_localstack) -> None:
    env = LocalStackBackend(url=fake_localstack.url, region="eu-west-1").lambda_environment(runtime="local")
    assert env["AWS_ENDPOINT_URL"] == fake_localstack.url
    assert env["AWS_REGION"] == "eu-west-1"
    assert env["AWS_ACCESS_KEY_ID"] == "testing"


def test_lambda_environment_rejects_unknown_runtime(fake_localstack) -> None:
    with pytest.raises(BackendError, match="runtime must be"):
        LocalStackBackend(url=fake_localstack.url).lambda_environment(runtime="docker")  # type: ignore[arg-type]


def test_start_container_without_testcontainers_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "testcontainers", None)  # makes the import fail as if not installed
    monkeypatch.setitem(sys.modules, "testcontainers.localstack", None)
    with pytest.raises(BackendError) as err:
        LocalStackBackend(start_container=True, timeout=1).start()
    assert "pip install testcontainers" in str(err.value) and "Docker" in str(err.value)


def _fake_testcontainers(monkeypatch: pytest.MonkeyPatch, url: str, fail: Exception | None = None) -> list:
    made: list = []

    class LocalStackContainer:
        def __init__(self, image: str) -> None:
            self.image, self.env, self.stopped = image, {}, False
            made.append(self)

        def with_env(self, key: str, value: str) -> "LocalStackContainer":
            self.env[key] = value
            return self

        def start(self) -> "LocalStackContainer":
            if fail:
                raise fail
            return self

        def get_url(self) -> str:
            return url

        def stop(self) -> None:
            self.stopped = True

    module = types.ModuleType("testcontainers.localstack")
    module.LocalStackContainer = LocalStackContainer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "testcontainers", types.ModuleType("testcontainers"))
    monkeypatch.setitem(sys.modules, "testcontainers.localstack", module)
    return made


def test_start_container_uses_pinned_image_token_and_owns_the_container(
    fake_localstack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOCALSTACK_IMAGE", raising=False)
    monkeypatch.setenv("LOCALSTACK_AUTH_TOKEN", "tok-123")
    made = _fake_testcontainers(monkeypatch, fake_localstack.url)
    backend = LocalStackBackend(url="http://127.0.0.1:1", start_container=True, timeout=5)
    with backend:
        assert backend.endpoint_url == fake_localstack.url
        assert backend.describe().details["image"] == PINNED_IMAGE
    (container,) = made
    assert container.image == PINNED_IMAGE
    assert container.env["LOCALSTACK_AUTH_TOKEN"] == "tok-123"
    assert set(container.env["SERVICES"].split(",")) >= {"dynamodb", "dynamodbstreams", "lambda", "s3"}
    assert container.stopped


def test_start_container_failure_names_image_and_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALSTACK_IMAGE", "localstack/localstack-pro:2026.3.0")
    no_engine = RuntimeError("Error while fetching server API version")
    _fake_testcontainers(monkeypatch, "http://127.0.0.1:1", fail=no_engine)
    with pytest.raises(BackendError) as err:
        LocalStackBackend(start_container=True, timeout=1).start()
    text = str(err.value)
    assert "localstack/localstack-pro:2026.3.0" in text and "Docker engine" in text
    assert "Error while fetching server API version" in text


def test_container_that_never_gets_ready_is_stopped(closed_port_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _fake_testcontainers(monkeypatch, closed_port_url)
    with pytest.raises(BackendError, match="did not answer"):
        LocalStackBackend(start_container=True, timeout=0.3).start()
    assert made[0].stopped


def test_container_that_never_gets_ready_nor_stops_reports_both(closed_port_url: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_testcontainers(monkeypatch, closed_port_url)

    def stop_fails(self: object) -> None:
        raise RuntimeError("container wedged")

    monkeypatch.setattr(sys.modules["testcontainers.localstack"].LocalStackContainer, "stop", stop_fails)
    with pytest.raises(BackendError, match=r"did not answer.*then: .*did not stop cleanly: container wedged"):
        LocalStackBackend(start_container=True, timeout=0.3).start()
