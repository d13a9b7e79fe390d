"""Apply a synthesized CloudFormation template to a local backend, in dependency order.

Everything that can be checked without creating anything (types, required properties,
references, attribute names, conditions, parameters, code assets, cycles) is checked first, so
a bad template never leaves a half-deployed stack behind.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from harness.deploy.errors import DeployError, IntrinsicError, UnsupportedResourceError
from harness.deploy.intrinsics import PSEUDO_PARAMETERS, Deployed, Resolver, getatt_references, references
from harness.deploy.order import creation_order, dependencies
from harness.deploy.resources import REGISTRY, DeployContext, supported_types


@dataclass(frozen=True)
class DeployedResource:
    """One created resource: what Ref and Fn::GetAtt resolve to."""

    resource_type: str
    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeployedStack:
    stack_name: str
    resources: dict[str, DeployedResource]  # logical id -> (type, physical_id, attributes)
    outputs: dict[str, str]  # resolved Outputs
    functions: dict[str, str]  # logical id -> function name (registered with the runtime)
    mappings: dict[str, str]  # logical id -> ESM UUID
    skipped: list[str] = field(default_factory=list)  # logical ids whose Condition was false
    # (logical id, type) of unsupported resources nothing supported depends on: not deployed locally
    skipped_unsupported: list[tuple[str, str]] = field(default_factory=list)


def apply_template(
    template: dict,
    *,
    stack_name: str,
    assembly_dir: Path,
    backend: Any,
    runtime: Any,
    esm: Any,
    notifications: Any,
    journal: Any = None,
    parameters: dict[str, str] | None = None,
) -> DeployedStack:
    """Create every resource of `template` on `backend` (functions on `runtime`, mappings on `esm`,
    Lambda bucket notifications on `notifications`) and return what was created."""
    began = time.perf_counter()
    ctx = DeployContext(
        stack_name=stack_name,
        region=backend.region,
        account_id=backend.account_id,
        assembly_dir=Path(assembly_dir),
        backend=backend,
        runtime=runtime,
        esm=esm,
        notifications=notifications,
        journal=journal,
        template=template,
    )
    resources = _resources(template)
    with _malformed("Parameters"):
        resolver = _resolver(template, ctx, parameters or {})
    active = _active_resources(resources, resolver)
    with _malformed("DependsOn"):
        unneeded = _unneeded_unsupported(resources, active)
    deployed = [lid for lid in active if lid not in unneeded]
    _validate(resources, deployed, resolver, ctx)
    with _malformed("DependsOn"):
        order = creation_order({lid: resources[lid] for lid in deployed})
    with _malformed("Rules/Outputs"):
        _notes_for_ignored_sections(template, ctx)

    stack = DeployedStack(stack_name, {}, {}, {}, {}, skipped=[lid for lid in resources if lid not in active],
                          skipped_unsupported=[(lid, resources[lid]["Type"]) for lid in unneeded])
    for lid in stack.skipped:
        ctx.note(lid, "skipped: its Condition is false", resource_type=resources[lid]["Type"])
    for lid, rtype in stack.skipped_unsupported:
        ctx.note(lid, f"skipped: {rtype} is not deployed locally and the pipeline does not depend on it",
                 resource_type=rtype)
    for lid in order:
        rtype = resources[lid]["Type"]
        started = time.perf_counter()
        try:
            props = resolver.resolve(resources[lid].get("Properties", {}), logical_id=lid, path="Properties") or {}
            created = REGISTRY[rtype].create(ctx, lid, props, resources[lid])
        except DeployError as exc:  # same class, and the same word on what is left behind as below
            _record_failure(ctx, stack, lid, rtype, str(exc))
            raise type(exc)(str(exc) + _created_so_far(stack)) from exc
        except Exception as exc:  # a backend or collaborator error: say which resource, keep the cause
            message = f"{lid} ({rtype}): creation failed: {type(exc).__name__}: {exc}"
            _record_failure(ctx, stack, lid, rtype, message)
            raise DeployError(message + _created_so_far(stack)) from exc
        resolver.resources[lid] = Deployed(created.physical_id, created.attributes)
        stack.resources[lid] = DeployedResource(rtype, created.physical_id, dict(created.attributes))
        if rtype == "AWS::Lambda::Function" and not _is_native_provider(ctx, lid):
            stack.functions[lid] = created.physical_id
        if rtype == "AWS::Lambda::EventSourceMapping":
            stack.mappings[lid] = created.physical_id
        if journal is not None:
            journal.record("deploy", stack=stack_name, scope="resource", logical_id=lid, resource_type=rtype,
                           physical_id=created.physical_id, duration_ms=round((time.perf_counter() - started) * 1000, 2))

    with _malformed("Outputs"):
        stack.outputs = _outputs(template, resolver, ctx, {lid: rtype for lid, rtype in stack.skipped_unsupported})
    if journal is not None:
        journal.record("deploy", stack=stack_name, scope="stack", status="complete", resources=len(stack.resources),
                       skipped=len(stack.skipped), skipped_unsupported=len(stack.skipped_unsupported),
                       outputs=dict(stack.outputs),
                       duration_s=round(time.perf_counter() - began, 3))
    return stack


# -- validation ------------------------------------------------------------------------------


def _resources(template: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(template, dict):
        raise DeployError(f"template must be a JSON object, got {type(template).__name__}")
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise DeployError("template has no Resources section (or it is empty)")
    for lid, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise DeployError(f"{lid}: a resource must be an object with a string Type")
        if not isinstance(resource.get("Properties", {}), dict):
            raise DeployError(f"{lid} ({resource['Type']}): Properties must be an object")
    return resources


def _resolver(template: dict[str, Any], ctx: DeployContext, given: dict[str, str]) -> Resolver:
    declared = template.get("Parameters", {}) or {}
    unknown = set(given) - set(declared)
    if unknown:
        raise DeployError(f"parameters not declared by the template: {', '.join(sorted(unknown))} "
                          f"(declared: {', '.join(sorted(declared)) or 'none'})")
    values: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    for name, spec in declared.items():
        ptype = str(spec.get("Type", "String"))
        if name in given:
            raw = given[name]
        elif ptype.startswith("AWS::SSM::Parameter::Value"):
            unavailable[name] = f"it is read from SSM ({spec.get('Default')!r}) at deploy time; pass it in `parameters`"
            ctx.note(name, f"parameter {name} ({ptype}) not resolved locally (SSM); ignored unless referenced")
            continue
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            unavailable[name] = "it has no Default and no value was given in `parameters`"
            continue
        values[name] = raw.split(",") if ptype in ("CommaDelimitedList", "List<Number>") and isinstance(raw, str) else raw
    return Resolver(
        region=ctx.region,
        account_id=ctx.account_id,
        stack_name=ctx.stack_name,
        parameters=values,
        unavailable_parameters=unavailable,
        conditions=template.get("Conditions", {}) or {},
        mappings=template.get("Mappings", {}) or {},
        template_resources=frozenset(template["Resources"]),
        partition=ctx.partition,
    )


def _active_resources(resources: dict[str, dict[str, Any]], resolver: Resolver) -> list[str]:
    active = []
    for lid, resource in resources.items():
        condition = resource.get("Condition")
        with _malformed(f"{lid}: Condition"):
            keep = condition is None or resolver.condition(condition, logical_id=lid)
        if keep:
            active.append(lid)
    return active


def _unneeded_unsupported(resources: dict[str, dict[str, Any]], active: list[str]) -> list[str]:
    """The unsupported resources the local deploy may leave out: those no supported resource
    depends on, directly or through other unsupported ones (Ref, Fn::GetAtt, Fn::Sub, DependsOn;
    Outputs do not count). A dashboard or an archive nobody reads is not part of the pipeline; an
    unsupported resource a function reads is, and refusing it (naming the reader) beats a
    pipeline that fails later for a reason nobody sees."""
    graph = dependencies({lid: resources[lid] for lid in active})
    unsupported = [lid for lid in active if resources[lid]["Type"] not in REGISTRY]
    if not unsupported:
        return []
    needed_by: dict[str, set[str]] = {lid: set() for lid in unsupported}
    for lid in active:
        if resources[lid]["Type"] not in REGISTRY:
            continue
        seen: set[str] = set()
        todo = list(graph[lid])
        while todo:  # everything this supported resource needs, transitively
            dep = todo.pop()
            if dep in seen:
                continue
            seen.add(dep)
            if dep in needed_by:
                needed_by[dep].add(lid)
                todo.extend(graph[dep])  # a supported dependency is created itself, and checked on its own
    refused = [(lid, sorted(needed_by[lid])) for lid in unsupported if needed_by[lid]]
    if refused:
        listed = "; ".join(f"{lid} ({resources[lid]['Type']}), which {', '.join(users)} depend(s) on"
                           for lid, users in refused)
        raise UnsupportedResourceError(
            f"unsupported resource type(s), nothing was created: {listed}. Supported types: {', '.join(supported_types())}"
        )
    return unsupported


def _validate(resources: dict[str, dict[str, Any]], active: list[str], resolver: Resolver, ctx: DeployContext) -> None:
    known_names = set(resources) | set(resolver.parameters) | set(resolver.unavailable_parameters) | set(PSEUDO_PARAMETERS)
    for lid in active:
        resource = resources[lid]
        rtype = REGISTRY[resource["Type"]]
        props = resource.get("Properties", {})
        missing = [name for name in rtype.required if name not in props]
        if missing:
            raise DeployError(f"{lid} ({rtype.name}): missing required properties: {', '.join(missing)}")
        for name, path in references(props, "Properties").items():
            if name not in known_names:
                raise IntrinsicError(
                    f"{lid}: {path}: unresolvable reference {name!r}: not a resource, parameter or pseudo parameter"
                )
        for target, attribute, path in getatt_references(props, "Properties"):
            if target not in resources:
                raise IntrinsicError(f"{lid}: {path}: Fn::GetAtt of {target!r}, which is not a resource of this template")
            allowed = REGISTRY[resources[target]["Type"]].attributes if resources[target]["Type"] in REGISTRY else None
            if allowed is not None and attribute not in allowed:
                raise IntrinsicError(
                    f"{lid}: {path}: {target} ({resources[target]['Type']}) has no attribute {attribute!r} "
                    f"(available: {', '.join(allowed) or 'none'})"
                )
        if rtype.needs and getattr(ctx, rtype.needs) is None:
            raise DeployError(f"{lid} ({rtype.name}): deploying it needs `{rtype.needs}`, which was not given")
        if rtype.validate is not None:
            with _malformed(f"{lid} ({rtype.name})"):
                rtype.validate(lid, resource, ctx)


@contextmanager
def _malformed(where: str) -> Iterator[None]:
    """A template of the wrong shape (a list where an object belongs...) must fail as a DeployError
    naming where, not as a TypeError from deep inside a check."""
    try:
        yield
    except DeployError:
        raise
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
        raise DeployError(f"{where}: malformed template: {type(exc).__name__}: {exc}") from None


def _is_native_provider(ctx: DeployContext, lid: str) -> bool:
    from harness.deploy.resources.awslambda import provider_for_native_custom_resource

    return provider_for_native_custom_resource(ctx, lid) is not None


def _notes_for_ignored_sections(template: dict[str, Any], ctx: DeployContext) -> None:
    for name in (template.get("Rules") or {}):
        ctx.note(name, "template rule not evaluated locally (CDK's bootstrap-version check needs SSM)")
    for lid, output in (template.get("Outputs") or {}).items():
        if isinstance(output, dict) and "Export" in output:
            ctx.note(lid, "output export not published: a local deploy has no cross-stack exports")


# -- outputs and failures ---------------------------------------------------------------------


def _outputs(template: dict[str, Any], resolver: Resolver, ctx: DeployContext,
             skipped_unsupported: dict[str, str]) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for name, output in (template.get("Outputs") or {}).items():
        if not isinstance(output, dict) or "Value" not in output:
            raise DeployError(f"Outputs.{name}: an output needs a Value")
        condition = output.get("Condition")
        if condition is not None and not resolver.condition(condition, logical_id=f"Outputs.{name}"):
            continue
        missing = sorted(set(references(output["Value"])) & set(skipped_unsupported))
        if missing:
            ctx.note(f"Outputs.{name}", "output omitted: its value references resource(s) not deployed locally: "
                     + ", ".join(f"{lid} ({skipped_unsupported[lid]})" for lid in missing), skipped=missing)
            continue
        value = resolver.resolve(output["Value"], logical_id=f"Outputs.{name}", path="Value")
        outputs[name] = value if isinstance(value, str) else ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return outputs


def _record_failure(ctx: DeployContext, stack: DeployedStack, lid: str, rtype: str, message: str) -> None:
    if ctx.journal is not None:
        ctx.journal.record("deploy_failed", stack=stack.stack_name, logical_id=lid, resource_type=rtype, error=message,
                           created=sorted(stack.resources))


def _created_so_far(stack: DeployedStack) -> str:
    if not stack.resources:
        return " (nothing was created)"
    return f" (already created and left in place: {', '.join(stack.resources)})"
