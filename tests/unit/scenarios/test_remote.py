"""The remote runner (harness/scenarios/remote.py) exercised for real, without AWS.

A LocalPipeline on the embedded backend deploys infra/ and starts polling: the harness engine
stands in for AWS's ESM. The runner gets only the Backend and the stack outputs, as it would on
AWS, and must pass a correct poison scenario and fail one whose evidence is wrong.
"""

from __future__ import annotations

import dataclasses
import json
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest

from harness.esm import EngineSettings
from harness.pipeline import LocalPipeline
from _sample.orders import orders
from _sample.wrappers import deploy_wrapper
from harness.scenarios import load_scenarios
from harness.scenarios.model import Scenario, ScenarioError
from harness.judging.observation import FailureObject
from harness.scenarios.remote import (
    Deployed,
    Evidence,
    RemoteObservation,
    RemoteScenario,
    RemoteRunError,
    RemoteSettings,
    remote_checks,
    remote_conservation,
    run_remote_scenario,
    stack_outputs,
)
from harness.scenarios.runner import FAST_BACKOFF
from harness.scenarios.scenario_run import replace_function_code

BY_NAME = {s.name: s for s in load_scenarios()}
FAST = RemoteSettings(deadline_s=30, poll_s=0.1, quiet_s=0.5)


@pytest.fixture
def stand_in() -> Iterator[Any]:
    """deploy(context) -> (pipe, Deployed): the harness engine polling, standing in for AWS's ESM."""
    pipes: list[LocalPipeline] = []

    def deploy(context: dict[str, object]) -> tuple[LocalPipeline, Deployed]:
        pipe = LocalPipeline("embedded", esm_settings=EngineSettings(backoff=FAST_BACKOFF))
        pipe.start()
        pipes.append(pipe)
        pipe.deploy(dict(context))  # start_polling=True: records arrive while the ESM polls, as on AWS
        return pipe, Deployed(pipe.backend, dict(pipe.stack.outputs), stack_name="stand-in")

    yield deploy
    for pipe in pipes:
        pipe.stop()


def mapping_reader(pipe: LocalPipeline) -> Any:
    return lambda uuid: next(m for m in pipe.esm.list_event_source_mappings() if m["UUID"] == uuid)


def failed(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result["checks"] if not c["passed"]}


@pytest.mark.parametrize("name", ["one-poison-bisect", "partial-batch-valid"])
def test_spec_2_1_and_0_3_a_poison_scenario_passes_judged_from_backend_evidence_only(stand_in, name: str) -> None:
    """Bisect isolation (2.1) / partial suffix (0.3, 2.2), envelope (3.2, 3.3), key (4), conservation."""
    sc = BY_NAME[name]
    pipe, deployed = stand_in(sc.context)
    lines: list[str] = []
    result = run_remote_scenario(sc, deployed, settings=FAST, progress=lines.append, mapping_reader=mapping_reader(pipe))
    assert result["verdict"] == "pass", (result["error"], failed(result))
    names = {c["name"] for c in result["checks"]}
    assert "the deployed event source mapping has the scenario's settings" in names
    assert any(n.startswith("failure handler alerted") for n in names)
    assert result["conservation"]["lost"] == 0
    assert result["conservation"]["in_failure_records"] >= len(sc.poison)
    assert result["remote"]["settled"] is True
    assert "invocations" not in result["observed"]  # unobservable on AWS: not reported as an empty list
    assert any("accounted" in line for line in lines)  # progress while polling
    # the runner's own alert queue is gone afterwards
    queues = pipe.backend.client("sqs").list_queues().get("QueueUrls", [])
    assert not [q for q in queues if "harness-alerts-" in q]


def test_spec_2_1_non_poison_records_in_a_failure_object_fail_the_scenario(stand_in) -> None:
    """The stack has bisect off (wrong for one-poison-bisect): the whole batch lands in S3, so good
    records sit in a failure object and isolation (2.1) must fail, naming what differed."""
    sc = BY_NAME["one-poison-bisect"]
    pipe, deployed = stand_in({**sc.context, "bisect": False})
    result = run_remote_scenario(sc, deployed, settings=FAST, mapping_reader=mapping_reader(pipe))
    assert result["verdict"] == "fail", result["error"]
    bad = failed(result)
    assert "failure objects hold exactly the poison records, one each" in bad
    assert "the deployed event source mapping has the scenario's settings" in bad
    assert "every good order projected" in bad
    # the records were not lost: they are in the failure object
    assert result["conservation"]["lost"] == 0


def test_spec_1_a_record_in_neither_place_is_lost_and_named(stand_in, tmp_path: Path) -> None:
    """A consumer that swallows the poison's error: the poison is neither projected nor in S3.
    The runner waits to its deadline, then fails conservation naming the lost record."""
    sc = BY_NAME["one-poison-bisect"]
    pipe, deployed = stand_in(sc.context)
    workdir = tmp_path / "remote-swallow"
    workdir.mkdir()
    deploy_wrapper(SimpleNamespace(pipe=pipe, workdir=workdir, consumer=pipe.output("ConsumerFunctionName"), facts={},
                                   replace_function_code=partial(replace_function_code, pipe)), "swallow")
    result = run_remote_scenario(sc, deployed, settings=RemoteSettings(deadline_s=3, poll_s=0.2, quiet_s=0.5),
                                 mapping_reader=mapping_reader(pipe))
    assert result["verdict"] == "fail", result["error"]
    bad = failed(result)
    lost = bad["conservation: every injected record projected or in a failure object (names the lost)"]
    assert "(index 4)" in json.dumps(lost)
    assert result["conservation"]["lost"] == 1
    assert "settled before the deadline (every record accounted, each poison in a failure object, alerted and archived)" in bad
    assert result["remote"]["settled"] is False


def test_a_stack_already_holding_failure_objects_does_not_leak_into_the_next_run(stand_in) -> None:
    """Scenarios sharing one stack (one deploy per context on AWS): each judges only its own objects."""
    sc = BY_NAME["one-poison-bisect"]
    pipe, deployed = stand_in(sc.context)
    first = run_remote_scenario(sc, deployed, settings=FAST, mapping_reader=mapping_reader(pipe))
    second = run_remote_scenario(sc, deployed, settings=FAST, mapping_reader=mapping_reader(pipe))
    assert (first["verdict"], second["verdict"]) == ("pass", "pass"), (failed(first), failed(second))
    assert set(first["observed"]["failure_object_keys"]).isdisjoint(second["observed"]["failure_object_keys"])


def test_without_a_mapping_reader_the_judge_says_so_and_still_judges(stand_in) -> None:
    sc = BY_NAME["one-poison-bisect"]
    _, deployed = stand_in(sc.context)
    result = run_remote_scenario(sc, deployed, settings=FAST)  # moto's Lambda does not know the harness's mapping
    assert result["verdict"] == "pass", failed(result)
    assert any("not readable" in n for n in result["remote"]["notes"])


def test_a_scenario_not_marked_for_aws_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="wrapper"):
        run_remote_scenario(BY_NAME["function-timeout"], None)  # type: ignore[arg-type]


def test_the_aws_subset_is_explicit_and_every_exclusion_has_a_reason() -> None:
    marked = sorted(s.name for s in BY_NAME.values() if s.aws)
    assert marked == ["one-poison-bisect", "partial-batch-valid", "retry-exhaustion", "several-poison-bisect"]
    for s in BY_NAME.values():
        assert (s.aws_exclusion() is None) == s.aws
    assert "virtual clock" in BY_NAME["record-age-expiry"].aws_exclusion()
    assert "prepare hook" in BY_NAME["destination-unavailable"].aws_exclusion()
    assert "after hook" in BY_NAME["replay-after-fix"].aws_exclusion()


def test_marking_a_wrapper_scenario_aws_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match="aws=True, but it cannot run against AWS's ESM.*wrapper"):
        dataclasses.replace(BY_NAME["function-crash"], aws=True)


def test_deployed_refuses_outputs_that_are_not_the_pipeline_stack() -> None:
    with pytest.raises(RemoteRunError, match="FailureBucketName, EventSourceMappingId are missing"):
        Deployed(object(), {"SourceTableName": "t", "ProjectionTableName": "p"}, stack_name="S")  # type: ignore[arg-type]


class _Cfn:
    def __init__(self, status: str) -> None:
        self.status = status

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3's spelling
        return {"Stacks": [{"StackName": StackName, "StackStatus": self.status,
                            "Outputs": [{"OutputKey": "SourceTableName", "OutputValue": "src"}]}]}


class _Backend:
    name = "aws"

    def __init__(self, status: str) -> None:
        self.cfn = _Cfn(status)

    def client(self, service: str) -> Any:
        assert service == "cloudformation"
        return self.cfn


def test_stack_outputs_come_from_cloudformation_and_an_unfinished_stack_is_refused() -> None:
    assert stack_outputs(_Backend("CREATE_COMPLETE"), "S-1") == {"SourceTableName": "src"}  # type: ignore[arg-type]
    with pytest.raises(RemoteRunError, match="ROLLBACK_COMPLETE"):
        stack_outputs(_Backend("ROLLBACK_COMPLETE"), "S-1")  # type: ignore[arg-type]


def _obs(objects: list[FailureObject], projected: list[int], count: int = 4) -> RemoteObservation:
    injected = [{"index": i, "pk": f"order#t-{i}", "item": {}} for i in range(count)]
    return RemoteObservation(injected=injected, failure_objects=objects, processed=projected,
                             projected={f"order#t-{i}": {} for i in projected}, mapping={"UUID": "u"})


def _fo(records: list[int]) -> FailureObject:
    return FailureObject(key="aws/lambda/u/s/k", records=records, condition="RetryAttemptsExhausted",
                         approximate_invoke_count=3, function_error="Unhandled", has_response_context=True,
                         batch_size=len(records), start_sequence="1", end_sequence="1" if len(records) == 1 else "2",
                         payload_is_string=True, top_level_keys=["a", "b"])


def test_remote_conservation_counts_a_record_in_both_places_once_and_names_the_lost() -> None:
    """Spec 1: at-least-once; a good record projected before its batch failed is in both places."""
    obs = _obs([_fo([0, 1])], projected=[0, 2])
    cons = remote_conservation(obs)
    assert (cons["processed"], cons["in_failure_records"], cons["projected_and_in_failure_records"], cons["lost"]) == (
        1, 2, 1, 1)
    assert cons["lost_records"] == ["order#t-3 (index 3): neither projected nor in a failure object"]


def test_remote_checks_fail_a_failure_object_without_poison() -> None:
    """Spec 1, 2.1: under bisect a good record never exhausts its retries."""
    sc = Scenario(name="t", title="t", description="t", spec_sections=("2.1",),
                  context={"batchSize": 10, "retryAttempts": 2, "bisect": True}, items=tuple(orders(4, (1,), run="t")),
                  poison=(1,), aws=True)
    good = remote_checks(sc, _obs([_fo([1])], projected=[0, 2, 3]), [], settled=True, missing=[],
                         alerts_observed=False)
    assert all(c.passed for c in good), [c for c in good if not c.passed]
    bad = remote_checks(sc, _obs([_fo([1]), _fo([2])], projected=[0, 3]), [], settled=True, missing=[],
                        alerts_observed=False)
    failing = {c.name for c in bad if not c.passed}
    assert "every failure object holds a poison record (a good record never exhausts retries)" in failing
    assert "failure objects hold exactly the poison records, one each" in failing


class _FakeBackend:
    name = "embedded"
    account_id = "123456789012"

    def client(self, service: str) -> Any:
        return object()


class _Scripted(RemoteScenario):
    """wait() over scripted polls and a fake clock (sleep advances it): the timing rules alone."""

    def __init__(self, script: list[Any], settings: RemoteSettings) -> None:
        self.t = 0.0
        outputs = {k: "x" for k in ("SourceTableName", "ProjectionTableName", "FailureBucketName",
                                    "EventSourceMappingId")}
        super().__init__(BY_NAME["one-poison-bisect"], Deployed(_FakeBackend(), outputs), settings=settings,  # type: ignore[arg-type]
                         sleep=self._advance, now=lambda: self.t)
        self.script = script
        self.polls = 0

    def _advance(self, seconds: float) -> None:
        self.t += seconds

    def poll(self) -> Evidence:
        step = self.script[min(self.polls, len(self.script) - 1)]
        self.polls += 1
        if isinstance(step, Exception):
            raise step
        return Evidence(projected={f"pk{i}": {} for i in range(step)})

    def outstanding(self, ev: Evidence) -> list[str]:
        return [] if len(ev.projected) >= 2 else ["not yet"]


def test_wait_settles_after_a_quiet_period_and_retries_a_failed_poll() -> None:
    run = _Scripted([0, RuntimeError("throttled"), 1, 2], RemoteSettings(deadline_s=100, poll_s=1, quiet_s=3))
    settled, waited, missing = run.wait()
    assert (settled, missing) == (True, [])
    assert run.polls == 4 + 3  # settled on the 4th poll, then three quiet seconds of unchanged evidence
    assert waited < 100


def test_wait_stops_at_the_deadline_saying_what_is_missing_and_gives_up_on_persistent_poll_errors() -> None:
    run = _Scripted([0], RemoteSettings(deadline_s=5, poll_s=1, quiet_s=1))
    assert run.wait() == (False, 5.0, ["not yet"])
    broken = _Scripted([RuntimeError("AccessDenied")], RemoteSettings(deadline_s=5, poll_s=1, quiet_s=1))
    with pytest.raises(RuntimeError, match="AccessDenied"):
        broken.wait()
    assert broken.polls == 3
