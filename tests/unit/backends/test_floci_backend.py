"""FlociBackend without Docker: configuration, Floci's health shape against a fake on loopback,
container configuration through a fake testcontainers, and the pipeline wiring it gets."""

from __future__ import annotations

import sys
import time
import types
import urllib.parse

import pytest

from harness.backends import BACKENDS, BackendError, get_backend
from harness.backends.floci import DEFAULT_URL, PINNED_IMAGE, REQUIRED_SERVICES, FlociBackend
from harness.backends.localstack import LocalStackBackend
from harness.pipeline import choose_wiring


def test_get_backend_builds_floci_without_touching_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_FLOCI_URL", raising=False)
    monkeypatch.delenv("FLOCI_IMAGE", raising=False)
    backend = get_backend("floci")
    assert isinstance(backend, FlociBackend) and backend.name == "floci"
    assert backend.endpoint_url == DEFAULT_URL == "http://127.0.0.1:4567"
    assert backend.account_id == "000000000000"  # Floci's FLOCI_DEFAULT_ACCOUNT_ID for a non-numeric key
    assert backend.image == PINNED_IMAGE and PINNED_IMAGE.startswith("floci/floci:")
    assert "floci" in BACKENDS  # so --backend floci is a choice for pytest and `scenarios run`


def test_url_and_image_come_from_floci_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_FLOCI_URL", "http://floci:4566/")
    monkeypatch.setenv("FLOCI_IMAGE", "floci/floci:2.2.0")
    monkeypatch.setenv("HARNESS_LOCALSTACK_URL", "http://localstack:4566")  # must not leak into Floci
    backend = FlociBackend()
    assert (backend.endpoint_url, backend.image) == ("http://floci:4566", "floci/floci:2.2.0")


def test_bad_url_names_the_floci_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_FLOCI_URL", "floci:4566")
    with pytest.raises(BackendError, match="HARNESS_FLOCI_URL: Floci URL must look like"):
        FlociBackend()


def test_start_is_ready_on_floci_health_without_streams_or_sts(fake_floci) -> None:
    """Floci lists neither dynamodbstreams nor sts (dynamodb and iam serve them); LocalStack's
    required list would wait for them forever, Floci's does not."""
    assert "dynamodbstreams" not in fake_floci.health_script[0][1]["services"]
    backend = FlociBackend(url=fake_floci.url, timeout=5)
    with backend:
        assert backend.healthy()
        assert backend.client("dynamodbstreams").meta.endpoint_url == fake_floci.url
    assert fake_floci.health_count() >= 1 and "/_localstack/health" not in fake_floci.requests
    assert set(REQUIRED_SERVICES) == {"dynamodb", "s3", "sqs", "sns", "lambda", "iam"}


def test_older_floci_available_state_counts_as_ready(fake_floci) -> None:
    services = {name: "available" for name in REQUIRED_SERVICES}
    fake_floci.health_script[:] = [(200, {"services": services})]
    assert FlociBackend(url=fake_floci.url, timeout=2).healthy()


def test_a_missing_service_is_waited_for_then_named(fake_floci) -> None:
    services = {name: "running" for name in REQUIRED_SERVICES if name != "lambda"}
    fake_floci.health_script[:] = [(200, {"services": services})]
    began = time.monotonic()
    with pytest.raises(BackendError, match=r"Floci at .* answered but was not ready within 0\.4s: lambda=missing"):
        FlociBackend(url=fake_floci.url, timeout=0.4).start()
    assert time.monotonic() - began >= 0.4, "no Floci state means 'disabled for good': wait out the deadline"


def test_a_localstack_at_the_url_is_not_taken_for_floci(fake_localstack) -> None:
    """LocalStack answers /_localstack/health but 404 on /_floci/health: the error says so."""
    with pytest.raises(BackendError, match=r"Floci did not answer at .* within 0\.3s: start it with "
                                           r"`docker compose --profile floci up -d floci` \(HTTP 404\)"):
        FlociBackend(url=fake_localstack.url, timeout=0.3).start()


def test_floci_health_is_not_ready_for_the_localstack_backend(fake_floci) -> None:
    """The same Floci, asked as LocalStack at Floci's paths, lacks dynamodbstreams and sts: the
    per-emulator service lists matter."""
    class LocalStackAtFlociPaths(LocalStackBackend):
        health_path, info_path = "/_floci/health", "/_floci/info"

    with pytest.raises(BackendError, match="dynamodbstreams=missing.*sts=missing"):
        LocalStackAtFlociPaths(url=fake_floci.url, timeout=0.3).start()


def test_not_json_is_not_floci(fake_floci) -> None:
    fake_floci.health_script[:] = [(200, "<html>hello</html>")]
    with pytest.raises(BackendError, match=r"did not answer.*is this Floci\?"):
        FlociBackend(url=fake_floci.url, timeout=0.3).start()


def test_capabilities_and_describe_from_floci_endpoints(fake_floci) -> None:
    backend = FlociBackend(url=fake_floci.url)
    caps = backend.capabilities()
    assert (caps.version, caps.edition, caps.license_activated) == ("1.5.34", "community", None)
    assert caps.services["lambda"] == "running"
    info = backend.describe()
    assert info.name == "floci" and info.endpoint_url == fake_floci.url and info.account_id == "000000000000"
    assert info.details["capabilities"]["version"] == "1.5.34"
    assert "/_floci/info" in fake_floci.requests


def test_describe_never_raises_and_says_how_to_start_floci(closed_port_url: str) -> None:
    info = FlociBackend(url=closed_port_url).describe()
    assert info.details["capabilities"] is None
    assert "docker compose --profile floci up -d floci" in info.details["probe_error"]


def test_lambda_environment_leaves_the_endpoint_to_floci(fake_floci) -> None:
    backend = FlociBackend(url=fake_floci.url, region="eu-west-1")
    assert backend.lambda_environment() == {} == backend.lambda_environment(runtime="floci")  # type: ignore[arg-type]
    local = backend.lambda_environment(runtime="local")
    assert local["AWS_ENDPOINT_URL"] == fake_floci.url and local["AWS_REGION"] == "eu-west-1"
    with pytest.raises(BackendError, match="runtime must be 'floci' or 'local'"):
        backend.lambda_environment(runtime="docker")  # type: ignore[arg-type]


# ---- container mode, through a fake testcontainers.core.container -------------------------------

def _fake_docker_container(monkeypatch: pytest.MonkeyPatch, url: str, fail: Exception | None = None) -> list:
    made: list = []
    parsed = urllib.parse.urlsplit(url)

    class DockerContainer:
        def __init__(self, image: str) -> None:
            self.image, self.ports, self.volumes, self.kwargs, self.stopped = image, [], [], {}, False
            made.append(self)

        def with_exposed_ports(self, *ports: int) -> "DockerContainer":
            self.ports.extend(ports)
            return self

        def with_volume_mapping(self, host: str, container: str, mode: str) -> "DockerContainer":
            self.volumes.append((host, container, mode))
            return self

        def with_kwargs(self, **kwargs: object) -> "DockerContainer":
            self.kwargs.update(kwargs)
            return self

        def start(self) -> "DockerContainer":
            if fail:
                raise fail
            return self

        def get_container_host_ip(self) -> str:
            return str(parsed.hostname)

        def get_exposed_port(self, port: int) -> int:
            assert port in self.ports, "asked for a port that was never exposed"
            return int(parsed.port or 0)

        def stop(self) -> None:
            self.stopped = True

    core = types.ModuleType("testcontainers.core")
    container_module = types.ModuleType("testcontainers.core.container")
    container_module.DockerContainer = DockerContainer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "testcontainers", types.ModuleType("testcontainers"))
    monkeypatch.setitem(sys.modules, "testcontainers.core", core)
    monkeypatch.setitem(sys.modules, "testcontainers.core.container", container_module)
    return made


def test_start_container_runs_the_pinned_image_with_socket_and_root(fake_floci, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOCI_IMAGE", raising=False)
    made = _fake_docker_container(monkeypatch, fake_floci.url)
    backend = FlociBackend(url="http://127.0.0.1:1", start_container=True, timeout=5)
    with backend:
        assert backend.endpoint_url == fake_floci.url  # the mapped port, not the configured URL
        assert backend.describe().details["image"] == PINNED_IMAGE
    (container,) = made
    assert container.image == PINNED_IMAGE and container.ports == [4566]
    assert ("/var/run/docker.sock", "/var/run/docker.sock", "rw") in container.volumes
    assert container.kwargs == {"user": "root"}
    assert container.stopped, "container mode owns (and stops) what it started"


def test_start_container_failure_names_the_image_and_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOCI_IMAGE", "floci/floci:9.9.9")
    _fake_docker_container(monkeypatch, "http://127.0.0.1:1", fail=RuntimeError("manifest unknown"))
    with pytest.raises(BackendError) as err:
        FlociBackend(start_container=True, timeout=1).start()
    text = str(err.value)
    assert "could not start Floci container floci/floci:9.9.9" in text and "Docker engine" in text
    assert "FLOCI_IMAGE" in text and "manifest unknown" in text


def test_start_container_without_testcontainers_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "testcontainers", None)
    monkeypatch.setitem(sys.modules, "testcontainers.core", None)
    monkeypatch.setitem(sys.modules, "testcontainers.core.container", None)
    with pytest.raises(BackendError, match=r"pip install testcontainers.*start Floci yourself with "
                                           r"`docker compose --profile floci up -d floci`"):
        FlociBackend(start_container=True, timeout=1).start()


# ---- wiring ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("esm", ["harness", "native"])
def test_floci_is_wired_like_localstack(esm: str) -> None:
    """Lambda code runs in Floci's Lambda; the ESM is the harness engine unless `native` is asked."""
    wiring = choose_wiring("floci", esm)
    assert (wiring.runtime, wiring.esm, wiring.lambda_api) == ("remote", esm, False)
    assert wiring == choose_wiring("localstack", esm)
