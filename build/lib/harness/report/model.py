"""Validation of the runner's result before rendering.

The report is the thing people read when a run went wrong, so a malformed result must fail with
a message naming the field at fault (not a KeyError deep in a template), and optional fields the
runner left out get neutral defaults so a partial result still renders everything it has.
"""

from __future__ import annotations

import copy
import re
from typing import Any

VERDICTS = ("pass", "fail", "error")
FIDELITY_STATUSES = ("matches", "diverges", "consumer-differs", "not-run")
CONSERVATION_FIELDS = ("injected", "processed", "filtered", "in_failure_records", "dropped", "lost")


class ReportInputError(ValueError):
    """The result handed to the report does not have the documented shape; the message names where."""


def _expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind in (int, float, (int, float)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ReportInputError(f"{where}: expected {names}, got {type(value).__name__} {value!r:.80}")
    return value


def _number(value: Any, where: str, default: float = 0.0) -> float:
    if value is None:
        return default
    return float(_expect(value, (int, float), where))


def validate(result: Any) -> dict[str, Any]:
    """A normalised deep copy of `result`; raises ReportInputError naming the first bad field."""
    _expect(result, dict, "result")
    out = copy.deepcopy(result)
    run = out.setdefault("run", {})
    _expect(run, dict, "run")
    run.setdefault("backend", "unknown")
    run.setdefault("started", "")
    run["wall_s"] = _number(run.get("wall_s"), "run.wall_s")
    run.setdefault("harness_version", "")
    run.setdefault("backend_info", {})
    _expect(run["backend_info"], dict, "run.backend_info")
    scenarios = out.setdefault("scenarios", [])
    _expect(scenarios, list, "scenarios")
    seen: set[str] = set()
    for i, sc in enumerate(scenarios):
        _scenario(sc, f"scenarios[{i}]")
        if sc["name"] in seen:
            raise ReportInputError(f"scenarios[{i}].name: duplicate scenario name {sc['name']!r}")
        seen.add(sc["name"])
    fidelity = out.setdefault("fidelity", [])
    _expect(fidelity, list, "fidelity")
    for i, row in enumerate(fidelity):
        where = f"fidelity[{i}]"
        _expect(row, dict, where)
        for key in ("rule", "backend"):
            _expect(row.get(key), str, f"{where}.{key}")
        row.setdefault("spec", "")
        row.setdefault("reason", "")
        if row.get("status") not in FIDELITY_STATUSES:
            raise ReportInputError(f"{where}.status: expected one of {'|'.join(FIDELITY_STATUSES)}, "
                                   f"got {row.get('status')!r}")
    return out


def _scenario(sc: Any, where: str) -> None:
    _expect(sc, dict, where)
    name = _expect(sc.get("name"), str, f"{where}.name")
    if not name:
        raise ReportInputError(f"{where}.name: must not be empty")
    where = f"scenario {name!r}"
    if sc.get("verdict") not in VERDICTS:
        raise ReportInputError(f"{where}.verdict: expected one of {'|'.join(VERDICTS)}, got {sc.get('verdict')!r}")
    sc.setdefault("title", name)
    sc.setdefault("description", "")
    sc["spec_sections"] = [str(s) for s in _expect(sc.get("spec_sections") or [], list, f"{where}.spec_sections")]
    sc["wall_s"] = _number(sc.get("wall_s"), f"{where}.wall_s")
    checks = _expect(sc.get("checks") or [], list, f"{where}.checks")
    for j, c in enumerate(checks):
        _expect(c, dict, f"{where}.checks[{j}]")
        _expect(c.get("name"), str, f"{where}.checks[{j}].name")
        if not isinstance(c.get("passed"), bool):
            raise ReportInputError(f"{where}.checks[{j}].passed: expected a boolean, got {c.get('passed')!r}")
        c.setdefault("expected", None)
        c.setdefault("observed", None)
        c.setdefault("spec", "")
    sc["checks"] = checks
    sc["expected"] = _expect(sc.get("expected") or {}, dict, f"{where}.expected")
    sc["observed"] = _expect(sc.get("observed") or {}, dict, f"{where}.observed")
    cons = sc.get("conservation")
    if cons is not None:
        _expect(cons, dict, f"{where}.conservation")
        for key in CONSERVATION_FIELDS:
            value = cons.get(key, 0)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ReportInputError(f"{where}.conservation.{key}: expected int, got {value!r}")
            cons[key] = value
        cons["lost_records"] = [str(r) for r in _expect(cons.get("lost_records") or [], list,
                                                        f"{where}.conservation.lost_records")]
    sc["conservation"] = cons
    journal = _expect(sc.get("journal") or [], list, f"{where}.journal")
    for k, entry in enumerate(journal):
        _expect(entry, dict, f"{where}.journal[{k}]")
    sc["journal"] = journal
    error = sc.get("error")
    sc["error"] = None if error is None else str(error)
    sc["lint"] = [f for f in _expect(sc.get("lint") or [], list, f"{where}.lint") if isinstance(f, dict)]
    sc["notes"] = [str(n) for n in _expect(sc.get("notes") or [], list, f"{where}.notes")]
    sc["runtimes"] = _expect(sc.get("runtimes") or {}, dict, f"{where}.runtimes")


def anchor(index: int, name: str) -> str:
    """The HTML id of a scenario's section; shared so Markdown links land on it."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    return f"scenario-{index + 1}-{slug}" if slug else f"scenario-{index + 1}"


__all__ = ["CONSERVATION_FIELDS", "FIDELITY_STATUSES", "ReportInputError", "VERDICTS", "anchor", "validate"]
