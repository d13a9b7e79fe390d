"""The grid of mapping settings to explore: `--set KEY=v1,v2` parsed, combined, and checked
against the ranges AWS's API accepts, so a combination AWS would refuse is shown as skipped
with its reason instead of being simulated as if it could be deployed.

Ranges (spec 7.1 "Settings" and spec 1 "Retry behaviour"; API_CreateEventSourceMapping):
BatchSize 1..10000; MaximumRetryAttempts -1..10000; MaximumRecordAgeInSeconds -1 or
60..604800; ParallelizationFactor 1..10; TumblingWindowInSeconds 0..900;
MaximumBatchingWindowInSeconds 0..300; FunctionResponseTypes [] or ["ReportBatchItemFailures"];
BisectBatchOnFunctionError a boolean; DestinationConfig `none` or `deployed` (the on-failure
destination the stack has, spec 3).

A value that does not even parse (a word where a number goes, an unknown key) is the user's
typo, not a combination: GridError, naming the `--set` at fault.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any, Callable

RBIF = "ReportBatchItemFailures"
# Every parameter a row's `settings` holds, as the Lambda API spells it, in the console's order.
PARAMETERS = ("BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor", "MaximumRetryAttempts",
              "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "FunctionResponseTypes",
              "TumblingWindowInSeconds", "DestinationConfig")
DESTINATIONS = ("none", "deployed")
MAX_COMBINATIONS = 10_000


class GridError(ValueError):
    """A `--set` cannot be read; the message names the flag and the value at fault."""


def _int_range(lo: int, hi: int, spec: str) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        return None if lo <= v <= hi else f"must be {lo}..{hi} ({spec})"
    return check


def _record_age(v: Any) -> str | None:
    if v == -1 or 60 <= v <= 604800:
        return None
    return "must be -1 (forever) or 60..604800 (spec 1: AWS refuses 0..59)"


# What AWS's API accepts for each parameter (None: valid; else why not).
RANGES: dict[str, Callable[[Any], str | None]] = {
    "BatchSize": _int_range(1, 10000, "spec 7.1"),
    "MaximumBatchingWindowInSeconds": _int_range(0, 300, "spec 7.1"),
    "ParallelizationFactor": _int_range(1, 10, "spec 7.1"),
    "MaximumRetryAttempts": _int_range(-1, 10000, "spec 1"),
    "MaximumRecordAgeInSeconds": _record_age,
    "TumblingWindowInSeconds": _int_range(0, 900, "spec 7.1"),
    "BisectBatchOnFunctionError": lambda v: None if isinstance(v, bool) else "must be true or false (spec 7.1)",
    "FunctionResponseTypes": lambda v: None if v in ([], [RBIF]) else f"must be [] or [{RBIF}] (spec 7.1)",
    "DestinationConfig": lambda v: None if v in DESTINATIONS else "must be none or deployed (spec 3)",
}


def parse_value(key: str, text: str) -> Any:
    """One value of `--set KEY=...` as the API types it; GridError when it cannot be that type."""
    t = text.strip()
    where = f"--set {key}: value {text!r}"
    if key == "BisectBatchOnFunctionError":
        if t.lower() in ("true", "on", "yes"):
            return True
        if t.lower() in ("false", "off", "no"):
            return False
        raise GridError(f"{where} is not true or false")
    if key == "FunctionResponseTypes":
        if t in ("", "[]", "none"):
            return []
        if t.strip("[]") == RBIF:
            return [RBIF]
        raise GridError(f"{where} is not none ([]) or {RBIF}")
    if key == "DestinationConfig":
        if t.lower() in DESTINATIONS:
            return t.lower()
        raise GridError(f"{where} is not one of {', '.join(DESTINATIONS)}")
    try:
        return int(t)
    except ValueError:
        raise GridError(f"{where} is not an integer") from None


def parse_sets(pairs: list[str]) -> dict[str, list[Any]]:
    """`KEY=v1,v2` flags -> {KEY: [values]}, in the order given; a KEY given twice is an error.
    FunctionResponseTypes values are separated by `,` like the others: `none,ReportBatchItemFailures`."""
    sets: dict[str, list[Any]] = {}
    for pair in pairs:
        key, sep, values = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise GridError(f"--set {pair!r} must look like KEY=v1,v2,... (e.g. BatchSize=10,100)")
        if key not in PARAMETERS:
            raise GridError(f"--set {pair!r}: {key!r} is not a mapping parameter explore varies; "
                            f"known: {', '.join(PARAMETERS)}")
        if key in sets:
            raise GridError(f"--set {key} is given twice; list every value in one --set {key}=v1,v2")
        parsed = [parse_value(key, v) for v in values.split(",")] if values.strip() else []
        if not parsed:
            raise GridError(f"--set {pair!r} lists no value")
        unique: list[Any] = []
        for v in parsed:
            if v not in unique:
                unique.append(v)
        sets[key] = unique
    return sets


def default_sets(base: dict[str, Any]) -> dict[str, list[Any]]:
    """The usual choices when no --set is given: batch size (as deployed, 10, 100), bisect on/off,
    retries 0, 2, 10 and unbounded, partial responses on/off; the rest as deployed."""
    sizes = [base["BatchSize"]] + [b for b in (10, 100) if b != base["BatchSize"]]
    return {"BatchSize": sizes, "BisectBatchOnFunctionError": [False, True],
            "MaximumRetryAttempts": [0, 2, 10, -1], "FunctionResponseTypes": [[], [RBIF]]}


@dataclass(frozen=True)
class Combination:
    settings: dict[str, Any]  # every PARAMETER
    skipped: str | None = None  # why it is not simulated


def check(settings: dict[str, Any], *, has_destination: bool) -> str | None:
    """Why AWS (or the engine) would not run these settings; None when they are valid."""
    reasons = []
    for key in PARAMETERS:
        v = settings[key]
        bad = (isinstance(v, bool) and key not in ("BisectBatchOnFunctionError",)) or RANGES[key](v)
        if bad:
            reasons.append(f"{key}={_show(v)} {bad if isinstance(bad, str) else 'is not an integer'}")
    if settings["DestinationConfig"] == "deployed" and not has_destination:
        reasons.append("DestinationConfig=deployed but the stack's mapping has no on-failure destination")
    if settings["ParallelizationFactor"] not in (1, 0) and settings["TumblingWindowInSeconds"] != 0:
        reasons.append(f"ParallelizationFactor={settings['ParallelizationFactor']} with TumblingWindowInSeconds="
                       f"{settings['TumblingWindowInSeconds']}: the engine keeps window state per shard and does not "
                       "model windows across lanes (AWS documents neither)")
    return "; ".join(reasons) or None


def combinations(base: dict[str, Any], sets: dict[str, list[Any]], *, has_destination: bool) -> list[Combination]:
    """The product of `sets` over `base` (the deployed settings), deployed combination included
    (first when the grid lacks it), each checked; duplicates once."""
    keys = list(sets)
    count = 1
    for k in keys:
        count *= len(sets[k])
    if count > MAX_COMBINATIONS:
        raise GridError(f"the --set values make {count} combinations; at most {MAX_COMBINATIONS}")
    out: list[Combination] = []
    seen: set[str] = set()
    grid = [{**base, **dict(zip(keys, values))} for values in itertools.product(*(sets[k] for k in keys))]
    if base not in grid:
        grid.insert(0, dict(base))
    for settings in grid:
        key = json.dumps(settings, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        out.append(Combination(settings, check(settings, has_destination=has_destination)))
    return out


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


def show_setting(key: str, v: Any) -> str:
    """A setting as tables print it."""
    if key == "FunctionResponseTypes":
        return "RBIF" if v else "[]"
    return _show(v)
