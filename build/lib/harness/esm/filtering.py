"""FilterCriteria (spec 7.1): Lambda's event-filtering grammar over the Lambda-shaped record.

Filters are ORed; inside a pattern all keys must match (AND); a leaf is a list of matchers, any
of which may match (OR). Supported matchers: exact values (string, number, null, bool),
{"prefix"}, {"suffix"}, {"equals-ignore-case"}, {"anything-but"}, {"numeric"}, {"exists"}.
Numeric matching compares JSON numbers only: DynamoDB attribute values are strings ({"N": "5"}),
so as on AWS a numeric filter on them does not match (spec 7.1).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from harness.esm.errors import EsmValidationError

Matcher = Callable[[Any, bool], bool]  # (value, present) -> matched
_MISSING = object()
_NUM_OPS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "=": lambda a, b: a == b,
            ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _bad(where: str, why: str) -> EsmValidationError:
    return EsmValidationError(f"InvalidParameterValueException: Invalid filter pattern definition. {where}: {why}")


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _leaf(spec: Any, where: str) -> Matcher:
    if _is_num(spec):
        return lambda v, present: present and _is_num(v) and v == spec
    if spec is None or isinstance(spec, (str, bool)):
        return lambda v, present: present and type(v) is type(spec) and v == spec
    if not isinstance(spec, dict) or len(spec) != 1:
        raise _bad(where, f"matcher {spec!r} must be a value or an object with one operator")
    (op, arg), = spec.items()
    if op == "prefix" and isinstance(arg, str):
        return lambda v, present: present and isinstance(v, str) and v.startswith(arg)
    if op == "suffix" and isinstance(arg, str):
        return lambda v, present: present and isinstance(v, str) and v.endswith(arg)
    if op == "equals-ignore-case" and isinstance(arg, str):
        low = arg.lower()
        return lambda v, present: present and isinstance(v, str) and v.lower() == low
    if op == "exists" and isinstance(arg, bool):
        return lambda v, present: present == arg
    if op == "anything-but":
        if isinstance(arg, dict) and set(arg) == {"prefix"} and isinstance(arg["prefix"], str):
            pre = arg["prefix"]
            return lambda v, present: present and not (isinstance(v, str) and v.startswith(pre))
        values = arg if isinstance(arg, list) else [arg]
        if not all(x is None or isinstance(x, str) or _is_num(x) for x in values):
            raise _bad(where, f"anything-but takes values or {{'prefix': str}}, got {arg!r}")
        return lambda v, present: present and v not in values
    if op == "numeric" and isinstance(arg, list) and arg and len(arg) % 2 == 0:
        pairs = []
        for i in range(0, len(arg), 2):
            o, n = arg[i], arg[i + 1]
            if not isinstance(o, str) or o not in _NUM_OPS or not _is_num(n):
                raise _bad(where, f"numeric takes [op, number, ...] with op in {sorted(_NUM_OPS)}, got {arg!r}")
            pairs.append((_NUM_OPS[o], n))
        return lambda v, present: present and _is_num(v) and all(f(v, n) for f, n in pairs)
    raise _bad(where, f"unsupported matcher {spec!r}")


def _compile(node: Any, where: str) -> Callable[[Any], bool]:
    if not isinstance(node, dict) or not node:
        raise _bad(where, "a pattern must be a non-empty JSON object")
    parts: list[tuple[str, Any]] = []
    for key, sub in node.items():
        at = f"{where}.{key}"
        if isinstance(sub, dict):
            parts.append((key, ("obj", _compile(sub, at))))
        elif isinstance(sub, list):
            if not sub:
                raise _bad(at, "an empty matcher list matches nothing")
            parts.append((key, ("leaf", [_leaf(m, at) for m in sub])))
        else:
            raise _bad(at, f"leaf values must be arrays, got {sub!r}")

    def match(event: Any) -> bool:
        if not isinstance(event, dict):
            return False
        for key, (kind, m) in parts:
            value = event.get(key, _MISSING)
            if kind == "obj":
                if not m(value):
                    return False
                continue
            present = value is not _MISSING
            candidates = value if present and isinstance(value, list) else [value]
            if not any(mt(c, present) for mt in m for c in candidates):
                return False
        return True

    return match


def compile_pattern(pattern: str, *, where: str = "Pattern") -> Callable[[Any], bool]:
    """Parse and compile one filter pattern string; bad JSON or grammar names `where`."""
    try:
        node = json.loads(pattern)
    except (TypeError, ValueError) as exc:
        raise _bad(where, f"not valid JSON ({exc})") from None
    return _compile(node, where)


class RecordFilter:
    """All filters of a mapping, ORed (spec 7.1); with no filters every record passes.

    `view` turns a record into what the patterns see: the record itself by default (DynamoDB);
    for Kinesis `{"data": <data decoded as JSON>}` (spec 10, the StreamKind's filter_view)."""

    def __init__(self, patterns: tuple[str, ...] | list[str], view: Callable[[Any], Any] | None = None) -> None:
        self._matchers = [compile_pattern(p, where=f"FilterCriteria.Filters[{i}].Pattern") for i, p in enumerate(patterns)]
        self._view = view

    @property
    def active(self) -> bool:
        return bool(self._matchers)

    def passes(self, record: dict[str, Any]) -> bool:
        if not self._matchers:
            return True
        seen = record if self._view is None else self._view(record)
        return any(m(seen) for m in self._matchers)
