"""Creation order: a resource is created after everything it references or DependsOn.

CloudFormation derives the same graph; doing it here (and failing on a cycle before creating
anything) keeps a local deploy from ever being half-done because of ordering.
"""

from __future__ import annotations

from typing import Any, Mapping

from harness.deploy.errors import DependencyCycleError, DeployError
from harness.deploy.intrinsics import references


def dependencies(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, set[str]]:
    """For each logical ID, the other resources it must wait for."""
    graph: dict[str, set[str]] = {}
    for lid, resource in resources.items():
        deps = {name for name in references(resource.get("Properties", {})) if name in resources}
        depends_on = resource.get("DependsOn", [])
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        if not isinstance(depends_on, list) or not all(isinstance(name, str) for name in depends_on):
            raise DeployError(f"{lid}: DependsOn must be a logical ID or a list of them, got {depends_on!r}")
        for name in depends_on:
            if name not in resources:
                raise DeployError(f"{lid}: DependsOn names {name!r}, which is not a resource of this template")
            deps.add(name)
        graph[lid] = deps
    return graph


def creation_order(resources: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """A topological order, stable with respect to template order (so runs are reproducible)."""
    graph = dependencies(resources)
    order: list[str] = []
    done: set[str] = set()
    remaining = list(resources)
    while remaining:
        ready = [lid for lid in remaining if graph[lid] <= done]
        if not ready:
            raise DependencyCycleError(_describe_cycle(graph, remaining))
        for lid in ready:
            order.append(lid)
            done.add(lid)
        remaining = [lid for lid in remaining if lid not in done]
    return order


def _describe_cycle(graph: dict[str, set[str]], remaining: list[str]) -> str:
    """Name one actual loop (A -> B -> A), not just every resource that is stuck behind it."""
    stuck = set(remaining)
    start = remaining[0]
    path: list[str] = [start]
    seen = {start: 0}
    node = start
    while True:
        node = sorted(graph[node] & stuck)[0]
        if node in seen:
            loop = path[seen[node]:] + [node]
            return "dependency cycle between resources: " + " -> ".join(loop)
        seen[node] = len(path)
        path.append(node)
