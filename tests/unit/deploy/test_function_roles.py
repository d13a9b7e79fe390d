"""Each deployed function's FunctionSpec carries the ARN of its own template role (Role ->
Fn::GetAtt <role> Arn), as on AWS, instead of one stand-in role for every function."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.deploy import apply_template
from harness.deploy.synth import synthesize

ASSEMBLY = Path(__file__).parent / "fixtures" / "assembly"


def _role_target(resource: dict[str, Any]) -> str:
    """The logical id of the IAM role a function's Role reads, as CDK writes it."""
    role = resource["Properties"]["Role"]
    target = role["Fn::GetAtt"]
    return target[0] if isinstance(target, list) else target.split(".")[0]


@pytest.mark.parametrize("source", ["fixture", "infra"])
def test_each_function_carries_its_own_template_role(backend: Any, fakes: dict[str, Any],
                                                      fixture_template: dict[str, Any], source: str) -> None:
    """`fixture`: the CDK template checked in under fixtures/; `infra`: this project's own stack,
    synthesized now (cached by a hash of infra/ and lambdas/)."""
    if source == "fixture":
        template, assembly, stack_name = fixture_template, ASSEMBLY, "RolesFixture"
    else:
        synth = synthesize(None)
        template, assembly, stack_name = synth.template, synth.assembly_dir, "RolesInfra"
    stack = apply_template(template, stack_name=stack_name, assembly_dir=assembly, backend=backend, **fakes)

    iam = backend.client("iam")
    roles_by_function: dict[str, str] = {}
    assert len(stack.functions) == 2  # the consumer and the failure handler (CDK's provider is native)
    for lid, name in stack.functions.items():
        spec = fakes["runtime"].by_name(name)
        role_lid = _role_target(template["Resources"][lid])
        role = stack.resources[role_lid]
        assert role.resource_type == "AWS::IAM::Role"
        assert spec.role_arn == role.attributes["Arn"]
        # ... and that ARN is a role that exists in the backend's IAM, created by this deploy.
        assert iam.get_role(RoleName=role.physical_id)["Role"]["Arn"] == spec.role_arn
        roles_by_function[lid] = spec.role_arn
    consumer, handler = sorted(roles_by_function.values())
    assert consumer != handler, "consumer and failure handler must not share a role"


def test_a_literal_role_is_passed_through_and_no_role_is_none(backend: Any, fakes: dict[str, Any]) -> None:
    """A Role given as an ARN string (an imported role) reaches the spec unchanged; a function
    without Role (hand-written templates) leaves the runtime's default in charge."""
    imported = "arn:aws:iam::123456789012:role/imported-execution-role"
    code = {"ZipFile": "def handler(e, c):\n    return 1\n"}
    apply_template({"Resources": {
        "WithRole": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "roles-literal", "Handler": "index.handler", "Runtime": "python3.11", "Code": code,
            "Role": imported}},
        "NoRole": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "roles-none", "Handler": "index.handler", "Runtime": "python3.11", "Code": code}},
    }}, stack_name="RolesLiteral", assembly_dir=ASSEMBLY, backend=backend, **fakes)
    assert fakes["runtime"].by_name("roles-literal").role_arn == imported
    assert fakes["runtime"].by_name("roles-none").role_arn is None
