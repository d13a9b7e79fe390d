"""Creation order follows Ref/GetAtt/Sub references and DependsOn; a cycle is a clear error."""

from __future__ import annotations

import pytest

from harness.deploy.errors import DependencyCycleError, DeployError
from harness.deploy.order import creation_order


def test_references_and_depends_on_order_resources() -> None:
    resources = {
        "Mapping": {"Type": "T", "Properties": {"F": {"Ref": "Fn"}, "S": {"Fn::GetAtt": "Table.StreamArn"}}},
        "Fn": {"Type": "T", "Properties": {"Role": {"Fn::Sub": "${Role.Arn}"}}, "DependsOn": "Policy"},
        "Policy": {"Type": "T", "Properties": {"Roles": [{"Ref": "Role"}]}},
        "Role": {"Type": "T", "Properties": {"Region": {"Ref": "AWS::Region"}}},
        "Table": {"Type": "T"},
    }
    order = creation_order(resources)
    assert sorted(order) == sorted(resources)
    pos = {lid: i for i, lid in enumerate(order)}
    assert pos["Role"] < pos["Policy"] < pos["Fn"] < pos["Mapping"]
    assert pos["Table"] < pos["Mapping"]


def test_independent_resources_keep_template_order() -> None:
    assert creation_order({"B": {"Type": "T"}, "A": {"Type": "T"}, "C": {"Type": "T"}}) == ["B", "A", "C"]


def test_cycle_names_the_loop() -> None:
    resources = {
        "Free": {"Type": "T"},
        "A": {"Type": "T", "Properties": {"X": {"Ref": "B"}}},
        "B": {"Type": "T", "Properties": {"X": {"Fn::GetAtt": ["C", "Arn"]}}},
        "C": {"Type": "T", "DependsOn": ["A"]},
    }
    with pytest.raises(DependencyCycleError, match="dependency cycle between resources: A -> B -> C -> A"):
        creation_order(resources)


def test_depends_on_unknown_resource() -> None:
    with pytest.raises(DeployError, match="A: DependsOn names 'Ghost'"):
        creation_order({"A": {"Type": "T", "DependsOn": "Ghost"}})
