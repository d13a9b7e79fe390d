"""CloudFormation intrinsic functions, resolved locally against what has been deployed so far.

The applier resolves each resource's properties just before creating it, so every reference
points at a resource already created (the dependency sort guarantees that). Errors name the
logical ID and the property path, because a bare KeyError from deep inside a template is useless.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from harness.deploy.errors import IntrinsicError


class _NoValue:
    """`Ref: AWS::NoValue`: the property (or list item) is removed, as CloudFormation does."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

PSEUDO_PARAMETERS = (
    "AWS::AccountId",
    "AWS::Region",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
)

INTRINSIC_KEYS = frozenset(
    {
        "Ref",
        "Fn::GetAtt",
        "Fn::Join",
        "Fn::Sub",
        "Fn::Select",
        "Fn::Split",
        "Fn::If",
        "Fn::Equals",
        "Fn::And",
        "Fn::Or",
        "Fn::Not",
        "Condition",
        "Fn::GetAZs",
        "Fn::ImportValue",
        "Fn::Base64",
        "Fn::ToJsonString",
        "Fn::Length",
        "Fn::FindInMap",
    }
)

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


@dataclass
class Deployed:
    """What a reference to a created resource resolves to: Ref gives `ref`, GetAtt reads `attributes`."""

    ref: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Resolver:
    """Resolves intrinsic functions for one stack.

    `resources` is filled in by the applier as resources are created; `template_resources` is
    the set of logical IDs in the template, so that a reference to a resource not created yet
    (a dependency bug) is told apart from a reference to a name that does not exist at all.
    """

    region: str
    account_id: str
    stack_name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Deployed] = field(default_factory=dict)
    template_resources: frozenset[str] = frozenset()
    unavailable_parameters: dict[str, str] = field(default_factory=dict)
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"
    _condition_values: dict[str, bool] = field(default_factory=dict)
    _evaluating: set[str] = field(default_factory=set)

    # -- public -----------------------------------------------------------------------------

    def resolve(self, value: Any, *, logical_id: str, path: str = "") -> Any:
        """Resolve every intrinsic in `value`; NO_VALUE results are dropped from dicts and lists."""
        result = self._resolve(value, logical_id, path)
        return None if result is NO_VALUE else result

    def condition(self, name: str, *, logical_id: str, path: str = "Condition") -> bool:
        """The value of a named condition from the template's Conditions section."""
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self.conditions:
            known = ", ".join(sorted(self.conditions)) or "none"
            raise IntrinsicError(f"{logical_id}: {path}: unknown condition {name!r} (conditions: {known})")
        if name in self._evaluating:
            raise IntrinsicError(f"{logical_id}: {path}: condition {name!r} refers to itself (through {sorted(self._evaluating)})")
        self._evaluating.add(name)
        try:
            value = self._bool(self.conditions[name], f"Conditions.{name}", f"Conditions.{name}")
        finally:
            self._evaluating.discard(name)
        self._condition_values[name] = value
        return value

    def pseudo(self, name: str) -> Any:
        """A pseudo parameter's value in this (local) account and region."""
        values: dict[str, Any] = {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        return values[name]

    # -- internals --------------------------------------------------------------------------

    def _resolve(self, value: Any, lid: str, path: str) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                (key, arg), = value.items()
                if key in INTRINSIC_KEYS and not (key == "Condition" and isinstance(arg, dict)):
                    return self._function(key, arg, lid, f"{path}.{key}" if path else key)
            out: dict[str, Any] = {}
            for key, item in value.items():
                resolved = self._resolve(item, lid, f"{path}.{key}" if path else str(key))
                if resolved is not NO_VALUE:
                    out[key] = resolved
            return out
        if isinstance(value, list):
            items = [self._resolve(item, lid, f"{path}[{i}]") for i, item in enumerate(value)]
            return [item for item in items if item is not NO_VALUE]
        return value

    def _function(self, name: str, arg: Any, lid: str, path: str) -> Any:
        handler: Callable[[Any, str, str], Any] = getattr(self, "_fn_" + name.replace("Fn::", "").lower())
        return handler(arg, lid, path)

    def _fn_ref(self, arg: Any, lid: str, path: str) -> Any:
        if not isinstance(arg, str):
            raise IntrinsicError(f"{lid}: {path}: Ref takes a logical ID or parameter name, got {arg!r}")
        return self._ref(arg, lid, path)

    def _ref(self, name: str, lid: str, path: str) -> Any:
        if name in PSEUDO_PARAMETERS:
            return self.pseudo(name)
        if name in self.unavailable_parameters:
            raise IntrinsicError(f"{lid}: {path}: parameter {name!r} cannot be resolved locally: {self.unavailable_parameters[name]}")
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            return self.resources[name].ref
        raise IntrinsicError(f"{lid}: {path}: {self._unknown(name)}")

    def _unknown(self, name: str) -> str:
        if name in self.template_resources:
            return f"resource {name!r} is referenced before it was created (it may be skipped by its Condition)"
        return f"unresolvable reference {name!r}: not a resource, parameter or pseudo parameter of this template"

    def _fn_getatt(self, arg: Any, lid: str, path: str) -> Any:
        if isinstance(arg, str):
            if "." not in arg:
                raise IntrinsicError(f"{lid}: {path}: Fn::GetAtt string form must be 'LogicalId.Attribute', got {arg!r}")
            target, attribute = arg.split(".", 1)
        elif isinstance(arg, list) and len(arg) == 2:
            target = arg[0]
            attribute = self._resolve(arg[1], lid, f"{path}[1]")
        else:
            raise IntrinsicError(f"{lid}: {path}: Fn::GetAtt takes [LogicalId, Attribute], got {arg!r}")
        return self._getatt(str(target), str(attribute), lid, path)

    def _getatt(self, target: str, attribute: str, lid: str, path: str) -> Any:
        if target not in self.resources:
            raise IntrinsicError(f"{lid}: {path}: {self._unknown(target)}")
        attributes = self.resources[target].attributes
        if attribute not in attributes:
            known = ", ".join(sorted(attributes)) or "none"
            raise IntrinsicError(
                f"{lid}: {path}: resource {target!r} has no attribute {attribute!r} (available: {known})"
            )
        return attributes[attribute]

    def _fn_join(self, arg: Any, lid: str, path: str) -> str:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise IntrinsicError(f"{lid}: {path}: Fn::Join takes [delimiter, [values]], got {arg!r}")
        delimiter = self._resolve(arg[0], lid, f"{path}[0]")
        values = self._resolve(arg[1], lid, f"{path}[1]")
        if not isinstance(delimiter, str) or not isinstance(values, list):
            raise IntrinsicError(f"{lid}: {path}: Fn::Join takes [delimiter, [values]], got {arg!r}")
        return delimiter.join(self._scalar(v, lid, path) for v in values)

    def _scalar(self, value: Any, lid: str, path: str) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
        raise IntrinsicError(f"{lid}: {path}: expected a string, got {value!r}")

    def _fn_sub(self, arg: Any, lid: str, path: str) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
            text = arg[0]
            variables = self._resolve(arg[1], lid, f"{path}[1]")
        else:
            raise IntrinsicError(f"{lid}: {path}: Fn::Sub takes a string or [string, {{vars}}], got {arg!r}")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                return self._scalar(variables[name], lid, f"{path}.${{{name}}}")
            if "." in name and not name.startswith("AWS::"):
                target, attribute = name.split(".", 1)
                return self._scalar(self._getatt(target, attribute, lid, f"{path}.${{{name}}}"), lid, path)
            return self._scalar(self._ref(name, lid, f"{path}.${{{name}}}"), lid, path)

        return _SUB_VAR.sub(replace, text)

    def _fn_select(self, arg: Any, lid: str, path: str) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise IntrinsicError(f"{lid}: {path}: Fn::Select takes [index, [values]], got {arg!r}")
        index = self._resolve(arg[0], lid, f"{path}[0]")
        values = self._resolve(arg[1], lid, f"{path}[1]")
        try:
            index = int(index)
        except (TypeError, ValueError):
            raise IntrinsicError(f"{lid}: {path}: Fn::Select index must be an integer, got {index!r}") from None
        if not isinstance(values, list):
            raise IntrinsicError(f"{lid}: {path}: Fn::Select needs a list, got {values!r}")
        if not 0 <= index < len(values):
            raise IntrinsicError(f"{lid}: {path}: Fn::Select index {index} out of range for {len(values)} values")
        return values[index]

    def _fn_split(self, arg: Any, lid: str, path: str) -> list[str]:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise IntrinsicError(f"{lid}: {path}: Fn::Split takes [delimiter, string], got {arg!r}")
        delimiter = self._resolve(arg[0], lid, f"{path}[0]")
        source = self._resolve(arg[1], lid, f"{path}[1]")
        if not isinstance(delimiter, str) or not delimiter or not isinstance(source, str):
            raise IntrinsicError(f"{lid}: {path}: Fn::Split takes [delimiter, string], got {arg!r}")
        return source.split(delimiter)

    def _fn_if(self, arg: Any, lid: str, path: str) -> Any:
        if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
            raise IntrinsicError(f"{lid}: {path}: Fn::If takes [condition, if_true, if_false], got {arg!r}")
        chosen = 1 if self.condition(arg[0], logical_id=lid, path=path) else 2
        return self._resolve(arg[chosen], lid, f"{path}[{chosen}]")

    def _bool(self, value: Any, lid: str, path: str) -> bool:
        resolved = self._resolve(value, lid, path)
        if isinstance(resolved, bool):
            return resolved
        if isinstance(resolved, str) and resolved.lower() in ("true", "false"):
            return resolved.lower() == "true"
        raise IntrinsicError(f"{lid}: {path}: expected a condition (true/false), got {resolved!r}")

    def _fn_equals(self, arg: Any, lid: str, path: str) -> bool:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise IntrinsicError(f"{lid}: {path}: Fn::Equals takes [a, b], got {arg!r}")
        a, b = (self._resolve(v, lid, f"{path}[{i}]") for i, v in enumerate(arg))
        return _canonical(a) == _canonical(b)

    def _fn_and(self, arg: Any, lid: str, path: str) -> bool:
        if not (isinstance(arg, list) and 2 <= len(arg) <= 10):
            raise IntrinsicError(f"{lid}: {path}: Fn::And takes 2 to 10 conditions, got {arg!r}")
        return all([self._bool(v, lid, f"{path}[{i}]") for i, v in enumerate(arg)])

    def _fn_or(self, arg: Any, lid: str, path: str) -> bool:
        if not (isinstance(arg, list) and 2 <= len(arg) <= 10):
            raise IntrinsicError(f"{lid}: {path}: Fn::Or takes 2 to 10 conditions, got {arg!r}")
        return any([self._bool(v, lid, f"{path}[{i}]") for i, v in enumerate(arg)])

    def _fn_not(self, arg: Any, lid: str, path: str) -> bool:
        if not (isinstance(arg, list) and len(arg) == 1):
            raise IntrinsicError(f"{lid}: {path}: Fn::Not takes [condition], got {arg!r}")
        return not self._bool(arg[0], lid, f"{path}[0]")

    def _fn_condition(self, arg: Any, lid: str, path: str) -> bool:
        if not isinstance(arg, str):
            raise IntrinsicError(f"{lid}: {path}: Condition takes a condition name, got {arg!r}")
        return self.condition(arg, logical_id=lid, path=path)

    def _fn_getazs(self, arg: Any, lid: str, path: str) -> list[str]:
        region = self._resolve(arg, lid, path) or self.region
        return [f"{region}{suffix}" for suffix in ("a", "b", "c")]

    def _fn_importvalue(self, arg: Any, lid: str, path: str) -> Any:
        raise IntrinsicError(
            f"{lid}: {path}: Fn::ImportValue {arg!r} needs another stack's exports, "
            "which a local single-stack deploy does not have; pass the value as a parameter instead"
        )

    def _fn_base64(self, arg: Any, lid: str, path: str) -> str:
        text = self._scalar(self._resolve(arg, lid, path), lid, path)
        return base64.b64encode(text.encode()).decode()

    def _fn_tojsonstring(self, arg: Any, lid: str, path: str) -> str:
        return json.dumps(self._resolve(arg, lid, path), separators=(",", ":"))

    def _fn_length(self, arg: Any, lid: str, path: str) -> int:
        values = self._resolve(arg, lid, path)
        if not isinstance(values, list):
            raise IntrinsicError(f"{lid}: {path}: Fn::Length needs a list, got {values!r}")
        return len(values)

    def _fn_findinmap(self, arg: Any, lid: str, path: str) -> Any:
        if not (isinstance(arg, list) and len(arg) in (3, 4)):
            raise IntrinsicError(f"{lid}: {path}: Fn::FindInMap takes [map, key, key], got {arg!r}")
        names = [self._resolve(v, lid, f"{path}[{i}]") for i, v in enumerate(arg[:3])]
        node: Any = self.mappings
        for i, name in enumerate(names):
            if not isinstance(node, dict) or name not in node:
                if len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                    return self._resolve(arg[3]["DefaultValue"], lid, f"{path}[3]")
                raise IntrinsicError(f"{lid}: {path}: Fn::FindInMap: no {name!r} in {'/'.join(map(str, names[:i])) or 'Mappings'}")
            node = node[name]
        return node


def _canonical(value: Any) -> Any:
    """CloudFormation compares as strings: "5" equals 5, "true" equals true."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def references(value: Any, path: str = "") -> dict[str, str]:
    """Names `value` refers to through Ref, Fn::GetAtt and Fn::Sub, each with the first property
    path that refers to it (for dependency order and for errors that say where).

    Pseudo parameters are excluded; parameters are included (the caller filters to resources).
    """
    found: dict[str, str] = {}
    for name, _, where in _uses(value, path):
        found.setdefault(name, where)
    return found


def getatt_references(value: Any, path: str = "") -> list[tuple[str, str, str]]:
    """Every (target, attribute, path) read through Fn::GetAtt or `${A.B}` in Fn::Sub, so the
    applier can reject an attribute a resource type never has before creating anything."""
    return [(name, attribute, where) for name, attribute, where in _uses(value, path) if attribute is not None]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _sub_parts(arg: Any) -> tuple[str, Any]:
    if isinstance(arg, str):
        return arg, {}
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
        return arg[0], arg[1]
    return "", {}


def _uses(value: Any, path: str) -> Iterator[tuple[str, str | None, str]]:
    """Every (name, attribute, path) `value` reads, in template order. `attribute` is the literal
    attribute of a Fn::GetAtt or `${A.B}`, None for a Ref (or a GetAtt whose attribute is computed)."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _uses(item, f"{path}[{i}]")
        return
    if not isinstance(value, dict):
        return
    if len(value) == 1:
        (key, arg), = value.items()
        here = _join(path, key)
        if key == "Ref" and isinstance(arg, str):
            if arg not in PSEUDO_PARAMETERS:
                yield arg, None, here
            return
        if key == "Fn::GetAtt":
            if isinstance(arg, str):
                target, _, attribute = arg.partition(".")
                yield target, attribute if "." in arg else None, here
            elif isinstance(arg, list) and arg and isinstance(arg[0], str):
                literal = len(arg) == 2 and isinstance(arg[1], str)
                yield arg[0], arg[1] if literal else None, here
                yield from _uses(arg[1:], here)
            return
        if key == "Fn::Sub":
            text, variables = _sub_parts(arg)
            local = set(variables) if isinstance(variables, dict) else set()
            for name in _SUB_VAR.findall(text):
                name = name.strip()
                if name.startswith("!") or name in local or name in PSEUDO_PARAMETERS:
                    continue
                target, _, attribute = name.partition(".")
                getatt = "." in name and not name.startswith("AWS::")
                yield target, attribute if getatt else None, f"{here}.${{{name}}}"
            yield from _uses(variables, here)
            return
    for key, item in value.items():
        yield from _uses(item, _join(path, str(key)))
