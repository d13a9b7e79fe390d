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


# -- fixtures: a deployed local pipeline and the readers a test judges it with ---------------------
#
# Why factories: a test chooses its own CDK context (and clock, engine settings) and may deploy
# after preparing things; the fixtures share one backend, one journal and the current pipeline,
# so `injector`, `failure_records` and `journal` always refer to what `deployed_stack` deployed.


class _StackState:
    """What the fixtures of one test share: the backend, the journal and the live pipeline."""

    def __init__(self, backend: object, journal: object) -> None:
        self.backend = backend
        self.journal = journal
        self.pipe: object | None = None

    def current(self, what: str) -> object:
        if self.pipe is None:
            raise RuntimeError(f"{what}: no stack deployed yet; call deployed_stack(context) first")
        return self.pipe

    def close(self) -> None:
        if self.pipe is not None:
            pipe, self.pipe = self.pipe, None
            pipe.stop()  # type: ignore[attr-defined]


@pytest.fixture
def harness_backend(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The backend chosen with --backend, started; stopped after the test."""
    from harness.backends import get_backend

    backend = get_backend(request.config.getoption("--backend"))
    backend.start()
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture
def journal():  # type: ignore[no-untyped-def]
    """The journal every pipeline of this test writes to (in memory)."""
    from harness.journal import Journal

    return Journal()


@pytest.fixture
def _harness_stack_state(harness_backend, journal):  # type: ignore[no-untyped-def]
    state = _StackState(harness_backend, journal)
    try:
        yield state
    finally:
        state.close()


@pytest.fixture
def deployed_stack(_harness_stack_state):  # type: ignore[no-untyped-def]
    """Factory: `deployed_stack(context=None, *, start_polling=True, clock=None, esm_settings=None)`
    synthesizes infra/ with the CDK context and deploys it to the test's backend; returns the
    LocalPipeline. A second call replaces the first stack (the backend is reset in between)."""
    from harness.pipeline import LocalPipeline

    state: _StackState = _harness_stack_state

    def deploy(context: dict[str, object] | None = None, *, start_polling: bool = True, clock: object = None,
               esm_settings: object = None) -> LocalPipeline:
        if state.pipe is not None:
            state.close()
            state.backend.start()  # type: ignore[attr-defined]
            state.backend.reset()  # type: ignore[attr-defined]
        pipe = LocalPipeline(state.backend, clock=clock, esm_settings=esm_settings)  # type: ignore[arg-type]
        pipe.journal = state.journal  # type: ignore[assignment]
        state.pipe = pipe  # before start(): parts started before a failure are stopped at teardown
        pipe.start()
        pipe.deploy(context, start_polling=start_polling)
        return pipe

    return deploy


@pytest.fixture
def injector(_harness_stack_state):  # type: ignore[no-untyped-def]
    """`injector(count, poison=(), run="test")`: write orders (poison ones have a negative amount)
    to the deployed stack's source table; returns the items. `injector.items(items)` writes given items."""
    from harness.injector import orders

    state: _StackState = _harness_stack_state

    class Injector:
        def __call__(self, count: int, poison: tuple[int, ...] | list[int] = (), run: str = "test") -> list[dict]:
            return self.items(orders(count, poison, run=run))

        def items(self, items: list[dict]) -> list[dict]:
            state.current("injector").inject(items)  # type: ignore[attr-defined]
            return items

    return Injector()


@pytest.fixture
def failure_records(_harness_stack_state):  # type: ignore[no-untyped-def]
    """Reader of the deployed stack's failure bucket: `.list(filters=None)` -> [Listed], `.store`."""
    from harness.failures import FailureStore

    state: _StackState = _harness_stack_state

    class FailureReader:
        @property
        def store(self) -> FailureStore:
            pipe = state.current("failure_records")
            return FailureStore(pipe.backend.client("s3"), pipe.output("FailureBucketName"))  # type: ignore[attr-defined]

        def list(self, filters: object = None) -> list:
            return self.store.list(filters)  # type: ignore[arg-type]

    return FailureReader()
