"""FilterCriteria (spec 7.1, 7.4): Lambda's event-filtering grammar over the Lambda-shaped record.

Lambda "supports the same set of syntax and rules as Amazon EventBridge" (invocation-eventfiltering,
"Filter rule syntax"), so a pattern is read the way EventBridge reads it: as a set of *leaf paths*.

- Filters are ORed; inside a pattern every key must match (AND); a leaf is a list of matchers, any
  of which may match (OR); `"$or": [pattern, ...]` ORs whole sub-patterns at its level.
- A leaf path's values are the scalars (string, number, boolean, null) found there. An array
  contributes each of its scalar elements (nested arrays flattened), so a matcher matches an array
  field when any element matches. An object is not a leaf: its fields are deeper paths.
- A path is absent when it has no leaf values: the key is missing, or any object above it is
  missing, or the value there is an object or an empty array. `{"exists": false}` matches exactly
  an absent path, at any depth, and no other matcher (not even `anything-but`) matches one. This
  is what makes CDK's `FilterRule.notExists()` on a nested attribute
  (`{"dynamodb": {"NewImage": {"SkipMe": {"S": [{"exists": false}]}}}}`) match a NewImage without
  `SkipMe`, and a REMOVE record, which has no NewImage at all.
- `null` matches a present JSON null, never an absent key; `""` matches an empty string.
- Exact numbers compare as AWS compares them, by representation: 300 and 300.0 differ (the
  "Filter rule syntax" note); a pattern and a record are parsed JSON here, so 3.0e2 and 300.0
  (both the float 300.0) do compare equal, where AWS would tell them apart. `numeric` compares values. DynamoDB attribute values are strings in
  the JSON (`{"N": "5"}`), so a numeric matcher on them never matches, as on AWS.
- Arrays of objects: the sub-pattern must match within one element (EventBridge's array
  consistency).

Matchers: exact values, `prefix`, `suffix` (each also as `{"equals-ignore-case": s}`),
`equals-ignore-case`, `wildcard` (`*` any run, `\\*` a literal star), `anything-but` (a value, a
list of strings or numbers, or `{"prefix"|"suffix"|"equals-ignore-case"|"wildcard": ...}`),
`numeric` (one comparison, or a lower and an upper bound), `exists`, `cidr`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any, Callable

from harness.esm.errors import EsmValidationError

Values = list[Any]  # the leaf values at one path; [] means the path is absent
Matcher = Callable[[Values], bool]
Node = Callable[[Any], bool]
_MISSING = object()
_NUM_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "=": lambda a, b: a == b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
_LOWER = (">", ">=")
_UPPER = ("<", "<=")


def _bad(where: str, why: str) -> EsmValidationError:
    return EsmValidationError(f"InvalidParameterValueException: Invalid filter pattern definition. {where}: {why}")


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _same(a: Any, b: Any) -> bool:
    """Exact equality as AWS has it: same JSON type and value (300 is not 300.0, true is not 1)."""
    return type(a) is type(b) and a == b


def leaf_values(value: Any) -> Values:
    """The scalars at a path (spec 7.4): arrays flattened, objects and absence give none."""
    if value is _MISSING or isinstance(value, dict):
        return []
    if isinstance(value, list):
        out: Values = []
        for v in value:
            out.extend(leaf_values(v))
        return out
    return [value]


def _objects(value: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for v in value:
        if isinstance(v, dict):
            out.append(v)
        elif isinstance(v, list):
            out.extend(_objects(v))
    return out


def _wildcard(pattern: str, where: str) -> re.Pattern[str]:
    if "**" in pattern.replace("\\*", ""):
        raise _bad(where, f"wildcard {pattern!r}: consecutive wildcard characters are not allowed")
    parts, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if c == "*" else re.escape(c))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _strings(arg: Any, op: str, where: str) -> list[str]:
    values = arg if isinstance(arg, list) else [arg]
    if not values or not all(isinstance(v, str) for v in values):
        raise _bad(where, f"{op} takes a string or a list of strings, got {arg!r}")
    return values


def _string_test(op: str, arg: Any, where: str) -> Callable[[str], bool]:
    """A test on one string value for prefix, suffix, equals-ignore-case and wildcard."""
    if op in ("prefix", "suffix"):
        fold = isinstance(arg, dict) and set(arg) == {"equals-ignore-case"}
        text = arg["equals-ignore-case"] if fold else arg
        if not isinstance(text, str):
            raise _bad(where, f"{op} takes a string or {{'equals-ignore-case': string}}, got {arg!r}")
        if fold:
            low = text.lower()
            return (lambda s: s.lower().startswith(low)) if op == "prefix" else (lambda s: s.lower().endswith(low))
        return (lambda s: s.startswith(text)) if op == "prefix" else (lambda s: s.endswith(text))
    if op == "equals-ignore-case":
        lows = {s.lower() for s in _strings(arg, op, where)}
        return lambda s: s.lower() in lows
    if op == "wildcard":
        regexes = [_wildcard(p, where) for p in _strings(arg, op, where)]
        return lambda s: any(r.fullmatch(s) for r in regexes)
    raise _bad(where, f"unsupported matcher {op!r}")


def _numeric(arg: Any, where: str) -> Callable[[Any], bool]:
    shape = "numeric takes [op, number] or [lower op, number, upper op, number] with ops < <= = > >="
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise _bad(where, f"{shape}, got {arg!r}")
    pairs = []
    for i in range(0, len(arg), 2):
        op, n = arg[i], arg[i + 1]
        if not isinstance(op, str) or op not in _NUM_OPS or not _is_num(n):
            raise _bad(where, f"{shape}, got {arg!r}")
        pairs.append((_NUM_OPS[op], n))
    if len(arg) == 4 and (arg[0] not in _LOWER or arg[2] not in _UPPER):
        raise _bad(where, f"a numeric range is a lower bound (> or >=) then an upper bound (< or <=), got {arg!r}")
    return lambda v: _is_num(v) and all(f(v, n) for f, n in pairs)


def _anything_but(arg: Any, where: str) -> Callable[[Any], bool]:
    if isinstance(arg, dict):
        if len(arg) != 1 or next(iter(arg)) not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
            raise _bad(where, f"anything-but takes values or one of prefix, suffix, equals-ignore-case, wildcard; "
                              f"got {arg!r}")
        (op, inner), = arg.items()
        if op in ("prefix", "suffix") and not isinstance(inner, str):
            raise _bad(where, f"anything-but {op} takes a string, got {inner!r}")
        test = _string_test(op, inner, where)
        return lambda v: not (isinstance(v, str) and test(v))
    values = arg if isinstance(arg, list) else [arg]
    if not values or not all(isinstance(x, str) or _is_num(x) for x in values):
        raise _bad(where, f"anything-but takes a string, a number, or a list of them (not null or booleans), "
                          f"got {arg!r}")
    return lambda v: not any(_same(v, x) for x in values)


def _leaf(spec: Any, where: str) -> Matcher:
    if spec is None or isinstance(spec, (str, bool)) or _is_num(spec):
        return lambda values: any(_same(v, spec) for v in values)
    if not isinstance(spec, dict) or len(spec) != 1:
        raise _bad(where, f"matcher {spec!r} must be a value or an object with one operator")
    (op, arg), = spec.items()
    if op == "exists":
        if not isinstance(arg, bool):
            raise _bad(where, f"exists takes true or false, got {arg!r}")
        return (lambda values: bool(values)) if arg else (lambda values: not values)
    test: Callable[[Any], bool]
    if op in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
        string_test = _string_test(op, arg, where)
        test = lambda v: isinstance(v, str) and string_test(v)  # noqa: E731
    elif op == "anything-but":
        test = _anything_but(arg, where)
    elif op == "numeric":
        test = _numeric(arg, where)
    elif op == "cidr":
        try:
            net = ipaddress.ip_network(arg, strict=False) if isinstance(arg, str) else None
        except ValueError:
            net = None
        if net is None:
            raise _bad(where, f"cidr takes an IP prefix such as '10.0.0.0/24', got {arg!r}")
        test = lambda v: isinstance(v, str) and _in_net(v, net)  # noqa: E731
    else:
        raise _bad(where, f"unsupported matcher {spec!r}")
    return lambda values: any(test(v) for v in values)


def _in_net(value: str, net: Any) -> bool:
    try:
        return ipaddress.ip_address(value) in net
    except ValueError:
        return False


def _compile(node: Any, where: str) -> Node:
    if not isinstance(node, dict) or not node:
        raise _bad(where, "a pattern must be a non-empty JSON object")
    leaves: list[tuple[str, list[Matcher]]] = []
    subs: list[tuple[str, Node]] = []
    ors: list[list[Node]] = []
    for key, sub in node.items():
        at = f"{where}.{key}"
        if key == "$or":
            if not isinstance(sub, list) or not sub:
                raise _bad(at, "$or takes a non-empty list of patterns")
            ors.append([_compile(p, f"{at}[{i}]") for i, p in enumerate(sub)])
        elif isinstance(sub, dict):
            subs.append((key, _compile(sub, at)))
        elif isinstance(sub, list):
            if not sub:
                raise _bad(at, "an empty matcher list matches nothing")
            leaves.append((key, [_leaf(m, at) for m in sub]))
        else:
            raise _bad(at, f"leaf values must be arrays, got {sub!r}")

    def match(value: Any) -> bool:
        if isinstance(value, list):
            objs = _objects(value)
            if objs:
                return any(match(o) for o in objs)
        fields = value if isinstance(value, dict) else {}
        for key, matchers in leaves:
            values = leaf_values(fields.get(key, _MISSING))
            if not any(m(values) for m in matchers):
                return False
        for key, sub_match in subs:
            if not sub_match(fields.get(key, _MISSING)):
                return False
        return all(any(alt(value) for alt in alts) for alts in ors)

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

    `view` turns a record into what the patterns see: the record itself by default (DynamoDB: the
    metadata fields and `dynamodb`); for Kinesis `{"data": <data decoded as JSON>}`, or None when
    the data is not JSON, which no pattern matches (spec 10, the StreamKind's filter_view)."""

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
        if seen is None:
            return False
        return any(m(seen) for m in self._matchers)
