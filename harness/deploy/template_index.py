"""A template read without deploying it: resources by logical id, what a value points at, and
setting values resolved from parameter defaults.

`shardproof describe` and `shardproof lint` must see the stack as it is written, before anything
exists, so a reference is read as "which logical id" rather than resolved to a physical name.
Values that do not name a resource (a mapping's BatchSize given as `Ref BatchSizeParam`, an
`Fn::If` on a parameter condition) go through the deployer's own `Resolver`, with each
parameter at its Default and every pseudo parameter (account, region...) unknown, so the
resolver is not written twice and a value that depends on the deploy is reported, not guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

from harness.deploy.errors import IntrinsicError
from harness.deploy.intrinsics import INTRINSIC_KEYS, NO_VALUE, Resolver, references

# Parameter types whose Default is not the value: CloudFormation reads the value elsewhere at deploy time.
_INDIRECT_PARAMETER_PREFIXES = ("AWS::SSM::Parameter::Value<",)
_LIST_PARAMETER_TYPES = ("CommaDelimitedList", "List<")


class _TemplateOnlyResolver(Resolver):
    """The deployer's resolver with every pseudo parameter unknown: a value that needs the
    account or region is only known at deploy time, so it must stay as written."""

    def pseudo(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        raise IntrinsicError(f"{name} is known only at deploy time")


@dataclass(frozen=True)
class Pointer:
    """What a template value names: a resource of this template (`logical_id`, with the GetAtt
    `attribute` or None for a Ref), or a literal (`literal`, possibly from a parameter's Default).

    `built` is True when the resource was found inside an `Fn::Join`/`Fn::Sub` that builds a
    longer string (an ARN with a qualifier, say) rather than a plain Ref/GetAtt of it.
    `parameter` names the template parameter a literal came from.
    """

    logical_id: str | None = None
    attribute: str | None = None
    literal: Any = None
    built: bool = False
    parameter: str | None = None
    candidates: tuple[str, ...] = ()  # every resource a built value mentions, in template order


@dataclass
class TemplateIndex:
    """One template's resources and parameters, plus the notes describe collects while reading."""

    template: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        resources = self.template.get("Resources")
        if not isinstance(resources, dict):
            raise ValueError("template has no Resources section (an object of logical id -> resource)")
        self.resources: dict[str, dict[str, Any]] = {}
        for lid, resource in resources.items():
            if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
                raise ValueError(f"template resource {lid!r} must be an object with a string Type")
            self.resources[lid] = resource
        parameters = self.template.get("Parameters") or {}
        if not isinstance(parameters, dict):
            raise ValueError("template Parameters must be an object of name -> parameter")
        self.parameters: dict[str, dict[str, Any]] = {k: v for k, v in parameters.items() if isinstance(v, dict)}
        defaults, unavailable = self._parameter_values()
        self.resolver = _TemplateOnlyResolver(
            region="", account_id="", stack_name="",
            parameters=defaults,
            unavailable_parameters=unavailable,
            conditions=self.template.get("Conditions") or {},
            mappings=self.template.get("Mappings") or {},
            template_resources=frozenset(self.resources),
        )
        self._noted: set[str] = set()

    # -- notes --------------------------------------------------------------------------------

    def note(self, text: str) -> None:
        """Record a plain-words note once (the same reference may be read from several places)."""
        if text not in self._noted:
            self._noted.add(text)
            self.notes.append(text)

    # -- resources ----------------------------------------------------------------------------

    def type_of(self, lid: str | None) -> str | None:
        resource = self.resources.get(lid) if lid is not None else None
        return resource["Type"] if resource else None

    def props(self, lid: str) -> dict[str, Any]:
        props = self.resources[lid].get("Properties") or {}
        return props if isinstance(props, dict) else {}

    def of_type(self, *types: str) -> Iterator[str]:
        """Logical ids of the resources of these types, in template order."""
        for lid, resource in self.resources.items():
            if resource["Type"] in types:
                yield lid

    def deployed(self, lid: str) -> bool:
        """False when the resource's Condition is false with every parameter at its Default
        (it would not be created); a Condition that depends on the deploy counts as true, noted."""
        name = self.resources[lid].get("Condition")
        if not isinstance(name, str):
            return True
        try:
            value = self.resolver.condition(name, logical_id=lid)
        except IntrinsicError as exc:
            self.note(f"{lid} is created only when condition {name} holds, which depends on the deploy ({exc}); "
                      "described as if it holds")
            return True
        if not value:
            self.note(f"{lid} is skipped: its condition {name} is false with the parameter defaults")
        return value

    # -- references ---------------------------------------------------------------------------

    def pointer(self, value: Any) -> Pointer:
        """What `value` names. A Ref to a parameter is followed to its Default (when it has a
        usable one); a value that resolves to no resource and no literal gives an empty Pointer
        with the resources it mentions as `candidates`."""
        if isinstance(value, (str, int, float, bool)):
            return Pointer(literal=value)
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref" and isinstance(arg, str):
                if arg in self.resources:
                    return Pointer(logical_id=arg)
                if arg in self.parameters:
                    return self._parameter_pointer(arg)
            if key == "Fn::GetAtt":
                target, attribute = _getatt_parts(arg)
                if target in self.resources:
                    return Pointer(logical_id=target, attribute=attribute)
            if key == "Fn::Sub" and isinstance(arg, str) and arg.startswith("${") and arg.endswith("}") \
                    and arg.count("${") == 1:
                name = arg[2:-1].strip()
                target, _, attribute = name.partition(".")
                if target in self.resources:
                    return Pointer(logical_id=target, attribute=attribute or None)
        candidates = tuple(name for name in references(value) if name in self.resources)
        resolved, _ = self.resolve(value)
        if not has_intrinsic(resolved):
            return Pointer(literal=resolved, candidates=candidates)
        if len(candidates) >= 1:
            return Pointer(logical_id=candidates[0], built=True, candidates=candidates)
        return Pointer(candidates=candidates)

    def _parameter_pointer(self, name: str) -> Pointer:
        value, problem = self.parameter_default(name)
        if problem is not None:
            return Pointer(parameter=name)
        return Pointer(literal=value, parameter=name)

    def parameter_default(self, name: str) -> tuple[Any, str | None]:
        """A parameter's Default as the template would deploy it, or (None, why not)."""
        if name in self.resolver.unavailable_parameters:
            return None, self.resolver.unavailable_parameters[name]
        return self.resolver.parameters.get(name), None

    def mentions(self, value: Any) -> list[str]:
        """The resources of this template `value` refers to (Ref, GetAtt, Sub), in order of appearance."""
        return [name for name in references(value) if name in self.resources]

    def resolve(self, value: Any, *, where: str = "") -> tuple[Any, str | None]:
        """`value` with parameters at their Default; (value as written, why) when it cannot be
        resolved from the template alone (a resource attribute, a pseudo parameter...)."""
        if not has_intrinsic(value):
            return value, None
        try:
            return self.resolver.resolve(value, logical_id=where or "template"), None
        except IntrinsicError as exc:
            return value, str(exc)

    def parameters_in(self, value: Any) -> list[str]:
        """The template parameters `value` refers to, so a resolved value can say where it came from."""
        return [name for name in references(value) if name in self.parameters]

    # -- internals ----------------------------------------------------------------------------

    def _parameter_values(self) -> tuple[dict[str, Any], dict[str, str]]:
        defaults: dict[str, Any] = {}
        unavailable: dict[str, str] = {}
        for name, spec in self.parameters.items():
            ptype = str(spec.get("Type", "String"))
            if ptype.startswith(_INDIRECT_PARAMETER_PREFIXES):
                unavailable[name] = f"parameter {name} ({ptype}) is read from SSM Parameter Store at deploy time"
            elif "Default" not in spec:
                unavailable[name] = f"parameter {name} has no Default: its value is given at deploy time"
            elif ptype.startswith(_LIST_PARAMETER_TYPES) and isinstance(spec["Default"], str):
                defaults[name] = [part.strip() for part in spec["Default"].split(",")]
            else:
                defaults[name] = spec["Default"]
        return defaults, unavailable


def _getatt_parts(arg: Any) -> tuple[str | None, str | None]:
    if isinstance(arg, str) and "." in arg:
        target, attribute = arg.split(".", 1)
        return target, attribute
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
        return arg[0], arg[1] if isinstance(arg[1], str) else None
    return None, None


def has_intrinsic(value: Any) -> bool:
    """True when `value` holds an intrinsic function anywhere (so it is not a plain literal)."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in INTRINSIC_KEYS:
            return True
        return any(has_intrinsic(v) for v in value.values())
    if isinstance(value, list):
        return any(has_intrinsic(v) for v in value)
    return False


def show(value: Any) -> str:
    """A template value in a few words: `Ref X`, `GetAtt X.Arn`, or compact JSON."""
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref" and isinstance(arg, str):
            return f"Ref {arg}"
        if key == "Fn::GetAtt":
            target, attribute = _getatt_parts(arg)
            if target is not None:
                return f"GetAtt {target}.{attribute}"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=False, default=str)
