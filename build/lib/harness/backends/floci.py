"""The Floci backend: an MIT-licensed AWS emulator that needs no token, reached like LocalStack.

Why it is here: LocalStack's images after 4.14.0 need an auth token, and Floci
(github.com/floci-io/floci, image `floci/floci`) presents itself as a drop-in replacement on the
same wire protocols, the same port (4566) and the same fake credentials. So it reuses
LocalStackBackend's attach/start/health/describe machinery unchanged and only states what
differs (docs/backends.md, "Floci", gives the source of each fact):

- health at `/_floci/health` (what Floci's own Testcontainers modules wait on), with LocalStack's
  shape: `{"version", "edition", "services": {name: state}}`;
- service names are Floci's: DynamoDB Streams is served by `dynamodb` and STS by `iam`, so
  neither `dynamodbstreams` nor `sts` is required to appear;
- there is no SERVICES selection (every service starts at boot), so nothing is ever "disabled"
  for waiting to fix, and the container needs the Docker socket and root for Lambda.

Lambda code runs in Floci's Lambda (real containers); Floci sets AWS_ENDPOINT_URL in them to an
address they can reach, as LocalStack does, so `lambda_environment()` adds nothing.

Nothing here has run against a real Floci: there is no Docker engine on the machine where it
was written (tests/localstack/test_floci.py is marked `docker` and skips).
"""

from __future__ import annotations

from typing import Any

from harness.backends.localstack import LocalStackBackend

# The newest release in Floci's own CHANGELOG as read for this backend ([1.5.34] - 2026-07-28);
# image tags are `x.y.z` per its README. docker-compose.yml pins the same tag.
PINNED_IMAGE = "floci/floci:1.5.34"
# 4567 on the host, so Floci and LocalStack (4566) can run side by side from one compose file.
DEFAULT_URL = "http://127.0.0.1:4567"
URL_ENV = "HARNESS_FLOCI_URL"
IMAGE_ENV = "FLOCI_IMAGE"
CONTAINER_PORT = 4566

# Floci's names for what the pipeline touches (its ServiceRegistry): dynamodb also answers the
# DynamoDB Streams API, iam also answers STS.
REQUIRED_SERVICES = ("dynamodb", "s3", "sqs", "sns", "lambda", "iam")
# Floci reports an enabled service as "running" (current) or "available" (older releases).
READY_STATES = frozenset({"running", "available"})
# No state of Floci's means "will not change by waiting"; a missing service times out, named.
DEAD_STATES: frozenset[str] = frozenset()


class FlociBackend(LocalStackBackend):
    """Floci at one URL; `start()` returns once its health lists every required service as ready."""

    name = "floci"
    product = "Floci"
    pinned_image = PINNED_IMAGE
    default_url = DEFAULT_URL
    url_env = URL_ENV
    image_env = IMAGE_ENV
    health_path = "/_floci/health"
    info_path = "/_floci/info"
    default_required_services = REQUIRED_SERVICES
    ready_states = READY_STATES
    dead_states = DEAD_STATES
    start_hint = "`docker compose --profile floci up -d floci`"
    dead_hint = "Floci starts every service unless one is disabled with FLOCI_SERVICES_<NAME>_ENABLED=false"

    def _new_container(self) -> Any:
        """A plain container: Floci's Python Testcontainers module is not a dependency here."""
        from testcontainers.core.container import DockerContainer  # type: ignore[import-not-found]

        container = DockerContainer(self.image)
        container.with_exposed_ports(CONTAINER_PORT)
        # Lambda functions run in sibling containers started through the host's engine, which
        # needs the socket and, per Floci's README, root inside the container.
        container.with_volume_mapping("/var/run/docker.sock", "/var/run/docker.sock", "rw")
        container.with_kwargs(user="root")
        return container

    def _container_url(self, container: Any) -> str:
        return f"http://{container.get_container_host_ip()}:{container.get_exposed_port(CONTAINER_PORT)}"

    def _start_failure_hint(self) -> str:
        return f" is {self.image} a published tag? override it with {IMAGE_ENV}"
