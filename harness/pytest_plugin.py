"""pytest plugin (registered through the `pytest11` entry point): scenarios as tests, fixtures, markers.

- `pytest scenarios/` (or any project's scenarios folder: shardproof.toml / [tool.shardproof]) collects
  every scenario file as test items, one per scenario, run on `--backend` against the project's
  stack source; a failing item lists the verdict's failing checks, expected against observed, so a
  team's CI needs nothing but pytest (and gets JUnit from `--junitxml`).
- `--backend embedded|localstack|floci|aws` picks where integration tests and scenarios run; the
  `--shardproof-app DIR`, `--shardproof-assembly DIR`, `--shardproof-template FILE`,
  `--shardproof-serverless DIR` and `--shardproof-stack NAME` options (`--harness-*`, the former
  names, still work) override the project file's stack source for the fixtures and the scenario
  items; a relative path is relative to the current folder, as the CLI's flags are.
- Tests marked `docker` skip with a printed reason when no Docker engine answers; tests marked
  `aws` skip unless HARNESS_AWS_TESTS=1 and credentials are present.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.backends import BACKENDS

SOURCE_OPTIONS = (("app", "DIR", "a CDK app folder (holding cdk.json)"),
                  ("assembly", "DIR", "a synthesized cloud assembly (cdk.out)"),
                  ("template", "FILE", "a CloudFormation or SAM template (JSON or YAML)"),
                  ("serverless", "DIR", "a Serverless Framework service folder (holding serverless.yml)"))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("shardproof")
    group.addoption(
        "--backend",
        action="store",
        default=os.environ.get("SHARDPROOF_BACKEND") or os.environ.get("HARNESS_BACKEND", "embedded"),
        choices=BACKENDS,
        help="where the stack runs for integration tests and scenarios (default: embedded)",
    )
    # `--harness-*`: the tool's former option names, kept as aliases.
    for kind, metavar, what in SOURCE_OPTIONS:
        group.addoption(f"--shardproof-{kind}", f"--harness-{kind}", dest=f"shardproof_{kind}", metavar=metavar,
                        default=None,
                        help=f"stack source: {what} (default: the project file's, else the sample's infra/)")
    group.addoption("--shardproof-stack", "--harness-stack", dest="shardproof_stack", metavar="NAME", default=None,
                    help="the stack to use when the source holds several")


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


# -- the stack source -----------------------------------------------------------------------------


def _source_spec(config: pytest.Config, project: Any) -> Any:
    """The project's source, or the one the --shardproof-* options name.

    A relative path is relative to the folder pytest was started in, as the CLI's `--app`... are
    (a shell completes paths from there), not to pytest's rootdir, which may be a parent folder.
    """
    from dataclasses import replace

    from harness.deploy.sources import SourceSpec

    given = [(kind, config.getoption(f"shardproof_{kind}")) for kind, _, _ in SOURCE_OPTIONS]
    given = [(k, v) for k, v in given if v]
    if len(given) > 1:
        raise pytest.UsageError(f"give one stack source, not {' and '.join('--shardproof-' + k for k, _ in given)}")
    stack = config.getoption("shardproof_stack")
    spec = project.source
    if given:
        kind, path = given[0]
        spec = SourceSpec(kind=kind, path=(Path(str(config.invocation_params.dir)) / path).resolve())
    return replace(spec, stack=stack) if stack else spec


_SOURCES: dict[tuple[Any, ...], Any] = {}


def stack_source(config: pytest.Config, start: Path | None = None) -> Any:
    """The StackSource for tests under `start` (its project file), opened once per session."""
    from harness.project import load_project

    project = load_project(start)
    spec = _source_spec(config, project)
    key = (spec, project.root)
    if key not in _SOURCES:
        _SOURCES[key] = project.open_source(spec)
    return _SOURCES[key]


# -- scenario files as test items ---------------------------------------------------------------------


_SCENARIO_DIRS: dict[Path, bool] = {}


def _is_scenario_folder(folder: Path) -> bool:
    """Whether `folder` is the scenarios folder of the project that holds it."""
    if folder not in _SCENARIO_DIRS:
        from harness.project import ProjectError, load_project

        try:
            _SCENARIO_DIRS[folder] = load_project(folder).scenarios.resolve() == folder.resolve()
        except (ProjectError, OSError, ValueError):
            _SCENARIO_DIRS[folder] = False
    return _SCENARIO_DIRS[folder]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    from harness.scenarios.loader import SUFFIXES

    if file_path.suffix not in SUFFIXES or file_path.name.startswith(("_", ".", "test_", "conftest")):
        return None
    if not _is_scenario_folder(file_path.parent):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    """One scenario file: one test item per scenario it defines."""

    def collect(self) -> Any:
        from harness.scenarios.loader import load_file
        from harness.scenarios.model import ScenarioError

        try:
            scenarios = load_file(self.path)
        except ScenarioError as exc:
            raise self.CollectError(str(exc)) from None
        for sc in scenarios:
            yield ScenarioItem.from_parent(self, name=sc.name, scenario=sc)


class ScenarioFailed(Exception):
    """The scenario's verdict was not pass; the message holds the failing checks."""


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.add_marker(pytest.mark.timeout(300))

    def runtest(self) -> None:
        from harness.scenarios import run_scenario
        from harness.scenarios.junit import failure_message

        source = stack_source(self.config, self.path.parent)
        result = run_scenario(self.scenario, source=source, backend=self.config.getoption("--backend"))
        self.user_properties.append(("verdict", result["verdict"]))
        if result["verdict"] != "pass":
            lines = [f"scenario {self.scenario.name!r} ({source.label()}): {result['verdict']}"]
            if result.get("blame") == "consumer":
                lines.append("the consumer did not behave as the scenario declares (handler): the failure is the "
                             "consumer's, not a difference from AWS")
            lines.append(result["error"] or failure_message(result))
            cons = result.get("conservation") or {}
            if cons.get("lost"):
                lines.append(f"lost records: {cons.get('lost_records')}")
            raise ScenarioFailed("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario: {self.name}"


# -- fixtures: a deployed local pipeline and the readers a test judges it with ---------------------
#
# Why factories: a test chooses its own CDK context (and clock, engine settings) and may deploy
# after preparing things; the fixtures share one backend, one journal and the current pipeline,
# so `injector`, `failure_records` and `journal` always refer to what `deployed_stack` deployed.


class _StackState:
    """What the fixtures of one test share: the backend, the journal, the live pipeline and its target."""

    def __init__(self, backend: object, journal: object) -> None:
        self.backend = backend
        self.journal = journal
        self.pipe: Any = None
        self.target: Any = None

    def current(self, what: str) -> Any:
        if self.pipe is None:
            raise RuntimeError(f"{what}: no stack deployed yet; call deployed_stack(context) first")
        return self.pipe

    def close(self) -> None:
        if self.pipe is not None:
            pipe, self.pipe, self.target = self.pipe, None, None
            pipe.stop()


@pytest.fixture
def shardproof_backend(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The backend chosen with --backend, started; stopped after the test."""
    from harness.backends import get_backend

    backend = get_backend(request.config.getoption("--backend"))
    backend.start()
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture
def harness_backend(shardproof_backend):  # type: ignore[no-untyped-def]
    """The former name of `shardproof_backend`."""
    return shardproof_backend


@pytest.fixture
def journal():  # type: ignore[no-untyped-def]
    """The journal every pipeline of this test writes to (in memory)."""
    from harness.journal import Journal

    return Journal()


@pytest.fixture
def _shardproof_stack_state(shardproof_backend, journal):  # type: ignore[no-untyped-def]
    state = _StackState(shardproof_backend, journal)
    try:
        yield state
    finally:
        state.close()


@pytest.fixture
def deployed_stack(_shardproof_stack_state, request):  # type: ignore[no-untyped-def]
    """Factory: `deployed_stack(context=None, *, start_polling=True, clock=None, esm_settings=None,
    mapping=None, table=None)` synthesizes the project's stack source (or the --shardproof-* one) with
    the CDK context and deploys it to the test's backend; returns the LocalPipeline, whose `target`
    is the pipeline `mapping`/`table` name (logical ids; needed only when the stack has several).
    A second call replaces the first stack (the backend is reset in between)."""
    from harness.deploy.template_reader import describe_template
    from harness.pipeline import LocalPipeline
    from harness.scenarios.target import resolve_target

    state: _StackState = _shardproof_stack_state

    def deploy(context: dict[str, object] | None = None, *, start_polling: bool = True, clock: object = None,
               esm_settings: object = None, mapping: str | None = None, table: str | None = None) -> LocalPipeline:
        if state.pipe is not None:
            state.close()
            state.backend.start()  # type: ignore[attr-defined]
            state.backend.reset()  # type: ignore[attr-defined]
        source = stack_source(request.config, Path(str(request.config.invocation_params.dir)))
        synth = source.synthesize(context or None)
        pipe = LocalPipeline(state.backend, clock=clock, esm_settings=esm_settings)  # type: ignore[arg-type]
        pipe.journal = state.journal  # type: ignore[assignment]
        state.pipe = pipe  # before start(): parts started before a failure are stopped at teardown
        pipe.start()
        stack = pipe.apply(synth, start_polling=start_polling)
        pipeline = describe_template(synth.template, stack_name=synth.stack_name).pipeline(mapping=mapping, table=table)
        state.target = resolve_target(pipeline, stack, pipe.esm)
        pipe.target = state.target  # type: ignore[attr-defined]
        return pipe

    return deploy


@pytest.fixture
def injector(_shardproof_stack_state):  # type: ignore[no-untyped-def]
    """`injector(items)`: write plain JSON items (or $update/$delete entries, as in scenario files) into
    the deployed pipeline's stream, checked against its key schema; returns the items."""
    from harness.streams import writer_for

    state: _StackState = _shardproof_stack_state

    def inject(items: list[dict]) -> list[dict]:
        pipe = state.current("injector")
        target = state.target
        writer = writer_for(target.kind)(key_schema=target.pipeline.stream.key_schema)
        writer.bind(pipe, target)
        writer.write(writer.prepare(list(items), where="injector"))
        return items

    return inject


@pytest.fixture
def failure_records(_shardproof_stack_state, tmp_path):  # type: ignore[no-untyped-def]
    """Reader of the deployed pipeline's on-failure destination: `.list(filters=None)` -> [Listed], `.store`.
    An S3 bucket's objects; or an SQS queue's messages (left in the queue) or an SNS topic's (through
    the queue the harness subscribed at deploy), their records read back from the stream."""
    from harness.replay.sources import source_for_destination

    state: _StackState = _shardproof_stack_state

    class FailureReader:
        @property
        def store(self) -> Any:
            pipe = state.current("failure_records")
            arn = state.target.destination_arn
            if not arn:
                raise RuntimeError("failure_records: the pipeline's mapping has no on-failure destination")
            return source_for_destination(arn, pipe.backend.client, ledger_dir=tmp_path / "replay-ledger")

        def list(self, filters: object = None) -> list:
            return self.store.list(filters)  # type: ignore[no-any-return]

    return FailureReader()
