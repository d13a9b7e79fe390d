"""A scenario's `expect` block: turn default checks off, or state what the pipeline must do.

Every scenario is judged by the default checks (harness/judging/defaults.py); `expect` lets a
team say more (how many failure records, which condition, the invoke count...) or switch a
default off where it does not apply to their stack (a consumer that sends no alert). Each key
becomes a check that names the spec section it rests on.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from harness.esm.outcomes import DROP_CAUSES
from harness.verdict import Check, check

POISON_OUTCOMES = ("failed", "failure-record", "dropped", "processed")
CONDITIONS = ("RetryAttemptsExhausted", "RecordAgeExceeded")

# Switches for the default checks: key -> what turning it off means.
SWITCHES = {
    "oracle": "compare with what shardproof simulate predicts for the deployed mapping",
    "isolated": "no good item in a failure record (where the settings isolate poison)",
    "order": "records of one key processed in stream order",
    "failure_handler": "every failure object reached the failure handler(s), which succeeded",
}


def _int(value: Any, key: str, lo: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValueError(f"expect.{key} must be an integer >= {lo}, got {value!r}")
    return value


def _indexes(value: Any, key: str, count: int) -> list[int]:
    if not isinstance(value, list) or any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < count
                                          for i in value):
        raise ValueError(f"expect.{key} must be a list of item indexes 0..{count - 1}, got {value!r}")
    return sorted(value)


def _groups(value: Any, key: str, count: int) -> list[list[int]]:
    if not isinstance(value, list):
        raise ValueError(f"expect.{key} must be a list of item-index lists (one per failure record), got {value!r}")
    return [_indexes(g, f"{key}[{n}]", count) for n, g in enumerate(value)]


def _dropped(value: Any, key: str, count: int) -> list[int] | dict[str, list[int]]:
    """Item indexes (dropped for any cause), or {cause: item indexes} with the causes of
    harness/esm/outcomes.py (trimmed, record_age, retries_exhausted, destination_failed)."""
    if isinstance(value, Mapping):
        unknown = [c for c in value if c not in DROP_CAUSES]
        if unknown:
            raise ValueError(f"expect.{key}.{unknown[0]} is not a drop cause (known: {', '.join(DROP_CAUSES)})")
        return {c: _indexes(value[c], f"{key}.{c}", count) for c in DROP_CAUSES if c in value}
    return _indexes(value, key, count)


def accepted_drops(expect: Mapping[str, Any], cause: str) -> set[int]:
    """The items `expect.dropped` accepts as dropped for this cause."""
    value = expect.get("dropped")
    if value is None:
        return set()
    return set(value.get(cause, ())) if isinstance(value, Mapping) else set(value)


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expect.{key} must be true or false, got {value!r}")
    return value


def _choice(choices: tuple[str | None, ...]) -> Callable[[Any, str], Any]:
    def parse(value: Any, key: str) -> Any:
        if value not in choices:
            raise ValueError(f"expect.{key} must be one of {', '.join(map(str, choices))}, got {value!r}")
        return value
    return parse


def _alerts(value: Any, key: str) -> bool | int:
    if isinstance(value, bool):
        return value
    return _int(value, key, 1)


# key -> parser(value, key[, count])
_PARSERS: dict[str, Callable[..., Any]] = {
    "failure_records": lambda v, k, n: _int(v, k),
    "destination": _groups,
    "condition": lambda v, k, n: _choice(CONDITIONS)(v, k),
    "approximate_invoke_count": lambda v, k, n: _int(v, k, 1),
    "function_error": lambda v, k, n: _choice(("Unhandled", "Handled", None))(v, k),
    "processed": _indexes,
    "filtered": _indexes,
    "dropped": _dropped,
    "in_failure_records": _indexes,
    "invocations": lambda v, k, n: _int(v, k, 1),
    "replayed": _indexes,
    "poison": lambda v, k, n: _choice(POISON_OUTCOMES)(v, k),
    "alerts": lambda v, k, n: _alerts(v, k),
    **{name: (lambda v, k, n: _bool(v, k)) for name in SWITCHES},
}
KEYS = tuple(_PARSERS)


def check_expect(expect: Any, *, poison: tuple[int, ...], count: int) -> dict[str, Any]:
    """The parsed expect block; ValueError naming the key (`expect.<key>`) when it is wrong."""
    if not isinstance(expect, Mapping):
        raise ValueError(f"expect must be an object of expectations, got {expect!r}")
    unknown = [k for k in expect if k not in _PARSERS]
    if unknown:
        raise ValueError(f"expect.{unknown[0]} is not an expectation (known: {', '.join(KEYS)})")
    return {k: _PARSERS[k](v, k, count) for k, v in expect.items()}


def explicit_checks(expect: Mapping[str, Any], obs: Any) -> list[Check]:
    """The checks a scenario's `expect` states outright, read from the Observation."""
    objs = sorted(obs.failure_objects, key=lambda o: o.records)
    out: list[Check] = []
    if "failure_records" in expect:
        out.append(check(f"{expect['failure_records']} failure record(s) at the destination",
                         expect["failure_records"], len(objs), spec="3"))
    if "destination" in expect:
        out.append(check("failure records hold exactly these items (one list per record)",
                         sorted(expect["destination"]), [o.records for o in objs], spec="2.1, 3.2"))
    if "condition" in expect:
        out.append(check(f"every failure record has condition {expect['condition']}",
                         [expect["condition"]] * len(objs), [o.condition for o in objs], spec="3.3"))
    if "approximate_invoke_count" in expect:
        n = expect["approximate_invoke_count"]
        out.append(check(f"every failure record has approximateInvokeCount {n}", [n] * len(objs),
                         [o.approximate_invoke_count for o in objs], spec="0.2, 3.2"))
    if "function_error" in expect:
        fe = expect["function_error"]
        out.append(check(f"every failure record has responseContext.functionError {fe!r}", [fe] * len(objs),
                         [o.function_error for o in objs], spec="2.3, 3.2"))
    if "processed" in expect:
        out.append(check("exactly these items processed (committed)", expect["processed"], obs.processed,
                         spec="1, 2.2"))
    if "filtered" in expect:
        out.append(check("exactly these items filtered out by the mapping's filters (never invoked)",
                         expect["filtered"], sorted(obs.filtered), spec="7.1, 7.4"))
    if "dropped" in expect:
        if isinstance(expect["dropped"], Mapping):
            out.append(check("exactly these items dropped without a failure record, by cause", expect["dropped"],
                             obs.dropped_by_cause(), spec="1 (end of retries), 7.3, 8"))
        else:
            got = sorted(i for d in obs.dropped for i in d["records"])
            out.append(check("exactly these items dropped without a failure record", expect["dropped"], got,
                             spec="1 (end of retries), 7.3, 8"))
    if "in_failure_records" in expect:
        got = sorted({i for o in objs for i in o.records})
        out.append(check("exactly these items in failure records", expect["in_failure_records"], got,
                         spec="2.1, 3"))
    if "invocations" in expect:
        out.append(check(f"{expect['invocations']} invocations of the consumer", expect["invocations"],
                         len(obs.invocations), spec="1, 2.1"))
    return out
