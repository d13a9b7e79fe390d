"""Bad templates for the local deployer (harness.deploy.apply_template, with fake collaborators):
never an unhandled exception, always a DeployError naming what is at fault.

The backend is a fake whose every call fails: a template that passes validation therefore ends
in "creation failed" (a DeployError naming the resource), which is also what the real code does
when a backend call fails. Nothing here talks to moto; each example is milliseconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzkit import json_values, mutated  # type: ignore[import-not-found]
from harness.deploy import DeployError, apply_template

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ASSEMBLY = Path(__file__).resolve().parents[1] / "unit" / "deploy" / "fixtures" / "assembly"
BASE = json.loads((ASSEMBLY / "Fixture.template.json").read_text())


class _Refusing:
    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"fake backend: {name} refused")
        return call


class FakeBackend:
    region = "us-east-1"
    account_id = "123456789012"
    endpoint_url = "http://127.0.0.1:9"
    name = "fake"

    def client(self, service: str, **config: Any) -> Any:
        return _Refusing()

    def lambda_environment(self) -> dict[str, str]:
        return {}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            return {"UUID": "00000000-0000-0000-0000-000000000001"}
        return call


def _apply(template: Any) -> None:
    try:
        apply_template(template, stack_name="Fuzz", assembly_dir=ASSEMBLY, backend=FakeBackend(),
                       runtime=Recorder(), esm=Recorder(), notifications=Recorder())
    except DeployError as exc:
        assert str(exc).strip(), "an empty DeployError message"
        return


@FUZZ
@given(json_values)
def test_arbitrary_json_is_not_a_template(template):
    _apply(template)


@FUZZ
@given(mutated(BASE))
def test_mutated_templates_fail_with_a_deploy_error(case):
    doc, path, what = case
    try:
        apply_template(doc, stack_name="Fuzz", assembly_dir=ASSEMBLY, backend=FakeBackend(),
                       runtime=Recorder(), esm=Recorder(), notifications=Recorder())
    except DeployError as exc:
        msg = str(exc)
        if path[0] == "Resources" and len(path) >= 2 and what != "add":
            # A broken resource is named by its logical ID, or by a resource that refers to it.
            assert any(lid in msg for lid in BASE["Resources"]) or "Resources" in msg, (path, what, msg)


@FUZZ
@given(st.sampled_from(sorted(BASE["Resources"])), st.sampled_from(["Type", "Properties", "DependsOn", "Condition"]),
       json_values)
def test_one_resource_field_replaced_names_the_logical_id(lid, field, value):
    doc = json.loads(json.dumps(BASE))
    doc["Resources"][lid][field] = value
    try:
        apply_template(doc, stack_name="Fuzz", assembly_dir=ASSEMBLY, backend=FakeBackend(),
                       runtime=Recorder(), esm=Recorder(), notifications=Recorder())
    except DeployError as exc:
        assert lid in str(exc) or any(other in str(exc) for other in BASE["Resources"]), str(exc)


def _error_for(mutate: Any) -> str:
    doc = json.loads(json.dumps(BASE))
    mutate(doc)
    try:
        apply_template(doc, stack_name="Fuzz", assembly_dir=ASSEMBLY, backend=FakeBackend(),
                       runtime=Recorder(), esm=Recorder(), notifications=Recorder())
    except DeployError as exc:
        return str(exc)
    raise AssertionError("accepted")  # pragma: no cover


def test_found_by_fuzzing_shapes_that_used_to_escape_as_type_errors():
    """Each of these raised TypeError/AttributeError from inside a check before the fix."""
    def code_as_list(d: dict) -> None:
        d["Resources"]["Consumer8D6BE417"]["Properties"]["Code"] = 5

    def depends_on_list_of_lists(d: dict) -> None:
        d["Resources"]["FailuresNotifications2120DE0C"]["DependsOn"] = [["x"]]

    def condition_as_list(d: dict) -> None:
        d["Resources"]["Alerts91F83244"]["Condition"] = ["IsProd"]

    assert "Consumer8D6BE417" in _error_for(code_as_list)
    assert "FailuresNotifications2120DE0C: DependsOn" in _error_for(depends_on_list_of_lists)
    assert "Alerts91F83244" in _error_for(condition_as_list)
