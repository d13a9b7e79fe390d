"""The LocalStack backend: attach to a running LocalStack, or start one with testcontainers.

Thin on purpose. LocalStack gets stream failure handling wrong in ways that matter here
(bisect ignored, no record-age expiry, throttles counted as retries, S3 payload written as an
object; see docs/backends.md), so the harness never treats its event source mapping as the ESM
of record: by default it uses LocalStack as AWS-shaped storage plus a Lambda that runs code in
real containers (harness/backends/remote_lambda.py), and runs LocalStack's own mappings only when
asked to measure them (`LocalPipeline("localstack", esm="native")`, harness/esm/native.py).

Attach mode (the default) never starts or stops anything: whoever ran `docker compose up -d`
owns the container. Container mode (`start_container=True`) owns the container it starts.

Other emulators that speak the same endpoint protocol (Floci, harness/backends/floci.py) reuse
this class by overriding its class attributes: image, URL variable, health path, service names.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from harness.backends.base import Backend, BackendError, BackendInfo

# The last image that starts without LOCALSTACK_AUTH_TOKEN; docker-compose.yml pins the same tag.
PINNED_IMAGE = "localstack/localstack:4.14.0"
DEFAULT_URL = "http://127.0.0.1:4566"
URL_ENV = "HARNESS_LOCALSTACK_URL"
IMAGE_ENV = "LOCALSTACK_IMAGE"
TOKEN_ENV = "LOCALSTACK_AUTH_TOKEN"

# What the pipeline touches; cloudwatch and logs are started too (compose SERVICES) but optional.
REQUIRED_SERVICES = ("dynamodb", "dynamodbstreams", "s3", "sqs", "sns", "lambda", "iam", "sts")
CONTAINER_SERVICES = REQUIRED_SERVICES + ("cloudwatch", "logs")
# "available" = loaded lazily on first request; "running" = already loaded.
READY_STATES = frozenset({"available", "running"})
# States that will not change by waiting: the service is not in SERVICES, or failed to load.
DEAD_STATES = frozenset({"disabled", "error"})

# LocalStack maps the fake access key the harness uses ("testing") to its default account.
LOCALSTACK_ACCOUNT_ID = "000000000000"


@dataclass(frozen=True)
class LocalStackCapabilities:
    """What the LocalStack at an endpoint says it is: reports show it next to every verdict."""

    version: str
    edition: str
    services: dict[str, str] = field(default_factory=dict)
    license_activated: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _NoAnswer(Exception):
    """Nothing usable came back from an HTTP probe (refused, timed out, not JSON, not 200)."""


def _validated_url(url: str, source: str, product: str = "LocalStack") -> str:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise BackendError(f"{source}: {product} URL must look like http://host:4566, got {url!r}")
    try:
        parsed.port  # noqa: B018 - raises ValueError on a non-numeric port
    except ValueError as exc:
        raise BackendError(f"{source}: bad port in {product} URL {url!r}: {exc}") from None
    return url.rstrip("/")


def _get_json(url: str, timeout: float, product: str = "LocalStack") -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raise _NoAnswer(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise _NoAnswer(str(getattr(exc, "reason", exc))) from None
    if status != 200:
        raise _NoAnswer(f"HTTP {status}")
    try:
        data = json.loads(body)
    except ValueError:
        raise _NoAnswer(f"answer is not JSON (is this {product}?)") from None
    if not isinstance(data, dict):
        raise _NoAnswer(f"answer is not a JSON object (is this {product}?)")
    return data


class LocalStackBackend(Backend):
    """LocalStack reached at one URL; `start()` returns once the services the pipeline uses answer."""

    name = "localstack"
    # What differs between emulators that share this machinery (see FlociBackend).
    product = "LocalStack"
    pinned_image = PINNED_IMAGE
    default_url = DEFAULT_URL
    url_env = URL_ENV
    image_env = IMAGE_ENV
    health_path = "/_localstack/health"
    info_path = "/_localstack/info"
    default_required_services: tuple[str, ...] = REQUIRED_SERVICES
    ready_states: frozenset[str] = READY_STATES
    dead_states: frozenset[str] = DEAD_STATES
    start_hint = "`docker compose up -d`"
    dead_hint = "add them to SERVICES (docker-compose.yml lists what the harness needs)"

    def __init__(
        self,
        region: str = "us-east-1",
        url: str | None = None,
        *,
        start_container: bool = False,
        image: str | None = None,
        timeout: float | None = None,
        required_services: tuple[str, ...] | None = None,
        lambda_endpoint_url: str | None = None,
    ) -> None:
        super().__init__(region)
        if url is not None:
            self._url = _validated_url(url, "url argument", self.product)
        else:
            self._url = _validated_url(os.environ.get(self.url_env) or self.default_url, self.url_env, self.product)
        self.start_container = start_container
        self.image = image or os.environ.get(self.image_env) or self.pinned_image
        # A container pulls and boots (~20-60 s); an attached one should already be up.
        self.timeout = timeout if timeout is not None else (180.0 if start_container else 30.0)
        self.required_services = tuple(
            self.default_required_services if required_services is None else required_services)
        self._lambda_endpoint_url = (
            _validated_url(lambda_endpoint_url, "lambda_endpoint_url", self.product) if lambda_endpoint_url else None
        )
        self._container: Any = None
        self._started = False
        self.started_in_s: float | None = None

    # -- where -------------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        return self._url

    @property
    def account_id(self) -> str:
        return LOCALSTACK_ACCOUNT_ID

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._started:
            return
        began = time.perf_counter()
        if self.start_container:
            self._start_container()
        try:
            self.wait_ready(self.timeout)
        except BackendError as not_ready:
            try:
                self.stop()
            except BackendError as stop_failed:  # say both: why it never got ready, and what is left running
                raise BackendError(f"{not_ready}; then: {stop_failed}") from not_ready
            raise
        self._started = True
        self.started_in_s = time.perf_counter() - began

    def stop(self) -> None:
        """Stop only what this object started; an attached LocalStack belongs to whoever ran it."""
        self._clients.clear()
        self._started = False
        container, self._container = self._container, None
        if container is not None:
            try:
                container.stop()
            except Exception as exc:  # noqa: BLE001 - a failed stop must name the container, not vanish
                raise BackendError(f"{self.product} container ({self.image}) did not stop cleanly: {exc}") from exc

    def _start_container(self) -> None:
        try:
            container = self._new_container()
        except ImportError:
            raise BackendError(
                "start_container=True needs testcontainers, which is not installed: "
                "`pip install testcontainers` (and a running Docker engine); "
                f"or start {self.product} yourself with {self.start_hint} and attach to it"
            ) from None
        try:
            container.start()
        except Exception as exc:  # noqa: BLE001 - docker/testcontainers raise many types; name the cause
            raise BackendError(
                f"could not start {self.product} container {self.image} (is a Docker engine running?"
                f"{self._start_failure_hint()}): {type(exc).__name__}: {exc}"
            ) from exc
        self._container = container
        self._url = _validated_url(self._container_url(container), "testcontainers container URL", self.product)

    def _new_container(self) -> Any:
        """The testcontainers object, configured, not started; ImportError if testcontainers is missing."""
        from testcontainers.localstack import LocalStackContainer  # type: ignore[import-not-found]

        container = LocalStackContainer(image=self.image)
        container.with_env("SERVICES", ",".join(CONTAINER_SERVICES))
        token = os.environ.get(TOKEN_ENV)
        if token:
            container.with_env(TOKEN_ENV, token)
        return container

    def _container_url(self, container: Any) -> str:
        return str(container.get_url())

    def _start_failure_hint(self) -> str:
        return f" does the image need {TOKEN_ENV}?"

    # -- health ------------------------------------------------------------------------------

    def _health(self, timeout: float = 2.0) -> dict[str, Any]:
        return _get_json(f"{self._url}{self.health_path}", timeout, self.product)

    def _not_ready(self, health: dict[str, Any]) -> dict[str, str]:
        """Required service -> its state, for every required service that cannot serve yet."""
        services = health.get("services")
        if not isinstance(services, dict):
            return {name: "unknown (health has no 'services')" for name in self.required_services}
        return {
            name: str(services.get(name, "missing"))
            for name in self.required_services
            if services.get(name) not in self.ready_states
        }

    def healthy(self) -> bool:
        try:
            return not self._not_ready(self._health())
        except _NoAnswer:
            return False

    def wait_ready(self, timeout: float) -> None:
        """Poll the health path until every required service is in a ready state.

        Fails fast when a required service is disabled or errored: waiting cannot fix SERVICES.
        A service absent from the answer is waited for (a booting LocalStack may list few).
        """
        deadline = time.monotonic() + timeout
        last_error = "no attempt made"
        not_ready: dict[str, str] | None = None
        while True:
            try:
                not_ready = self._not_ready(self._health())
            except _NoAnswer as exc:
                last_error = str(exc)
            else:
                if not not_ready:
                    return
                dead = {k: v for k, v in not_ready.items() if v in self.dead_states}
                if dead:
                    raise BackendError(
                        f"{self.product} at {self._url} cannot serve the pipeline: "
                        + ", ".join(f"{k}={v}" for k, v in sorted(dead.items()))
                        + f"; {self.dead_hint}"
                    )
            if time.monotonic() >= deadline:
                break
            time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
        if not_ready is None:
            raise BackendError(
                f"{self.product} did not answer at {self._url} within {timeout:g}s: "
                f"start it with {self.start_hint} ({last_error})"
            )
        raise BackendError(
            f"{self.product} at {self._url} answered but was not ready within {timeout:g}s: "
            + ", ".join(f"{k}={v}" for k, v in sorted(not_ready.items()))
        )

    def capabilities(self) -> LocalStackCapabilities:
        """Version, edition and service states, from the health and info paths.

        `/info` is optional (older images lack it); health alone still gives version and edition.
        """
        try:
            health = self._health()
        except _NoAnswer as exc:
            raise BackendError(
                f"{self.product} did not answer at {self._url}: start it with {self.start_hint} ({exc})"
            ) from None
        try:
            info = _get_json(f"{self._url}{self.info_path}", 2.0, self.product)
        except _NoAnswer:
            info = {}
        services = health.get("services") if isinstance(health.get("services"), dict) else {}
        activated = info.get("is_license_activated")
        return LocalStackCapabilities(
            version=str(info.get("version") or health.get("version") or "unknown"),
            edition=str(info.get("edition") or health.get("edition") or "unknown"),
            services={str(k): str(v) for k, v in sorted(services.items())},
            license_activated=activated if isinstance(activated, bool) else None,
        )

    def describe(self) -> BackendInfo:
        """Never raises: a report of a failed run still needs to say which LocalStack it tried."""
        details: dict[str, Any] = {
            "mode": "container" if self.start_container else "attach",
            "image": self.image if self.start_container else None,
            "required_services": list(self.required_services),
        }
        try:
            details["capabilities"] = self.capabilities().as_dict()
        except BackendError as exc:
            details["capabilities"] = None
            details["probe_error"] = str(exc)
        return BackendInfo(self.name, self._url, self.region, self.account_id, details)

    # -- Lambda ------------------------------------------------------------------------------

    def lambda_environment(self, runtime: Literal["localstack", "local"] = "localstack") -> dict[str, str]:
        """Variables for Lambda code, by where that code runs.

        `"localstack"` (functions deployed into LocalStack): LocalStack itself sets AWS_ENDPOINT_URL,
        the region and credentials in every Lambda container, pointing at an address the container
        can reach. The harness's own URL (often 127.0.0.1 on the host) would point the function at
        its own container, and Lambda refuses reserved keys such as AWS_REGION, so nothing is added
        unless `lambda_endpoint_url` was given for an unusual network.

        `"local"` (the harness's local runtime on this machine): the endpoint and fake credentials,
        exactly as for the embedded backend.
        """
        if runtime == "local":
            return super().lambda_environment()
        if runtime not in ("localstack", self.name):
            raise BackendError(f"lambda_environment: runtime must be {self.name!r} or 'local', got {runtime!r}")
        return {"AWS_ENDPOINT_URL": self._lambda_endpoint_url} if self._lambda_endpoint_url else {}
