"""`--verify K`: the K best combinations deployed for real on the embedded backend, to show the
oracle's numbers are what the pipeline does, not only what the spec says.

How the settings get onto the stack: the synthesized template's event source mapping gets the
combination's properties (CloudFormation's AWS::Lambda::EventSourceMapping takes the Lambda API's
names, so each one is set as is; DestinationConfig none removes the property), then the scenario
runs exactly as `shardproof scenarios run` runs it, consumer code and all. The row agrees when
the run's own oracle comparison passed and its invocations and failure records match the row.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Callable

from harness.explore.base import Base
from harness.explore.choose import ranked
from harness.explore.grid import PARAMETERS


class OverriddenSource:
    """A stack source whose template's mapping `logical_id` carries `settings` (grid PARAMETERS)."""

    def __init__(self, source: Any, logical_id: str, settings: dict[str, Any]) -> None:
        self._source = source
        self._lid = logical_id
        self._settings = settings

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    def label(self) -> str:
        return f"{self._source.label()} (mapping {self._lid} overridden by explore)"

    def synthesize(self, context: Any = None) -> Any:
        synth = self._source.synthesize(context)
        return dataclasses.replace(synth, template=override_template(synth.template, self._lid, self._settings))


def override_template(template: dict[str, Any], logical_id: str, settings: dict[str, Any]) -> dict[str, Any]:
    """A copy of `template` whose mapping `logical_id` has `settings`; KeyError names a missing mapping."""
    out = copy.deepcopy(template)
    resource = (out.get("Resources") or {}).get(logical_id)
    if not isinstance(resource, dict):
        raise KeyError(f"the template has no resource {logical_id!r} to override")
    props = resource.setdefault("Properties", {})
    for key in PARAMETERS:
        if key == "DestinationConfig":
            if settings[key] == "none":
                props.pop("DestinationConfig", None)
            continue
        props[key] = list(settings[key]) if key == "FunctionResponseTypes" else settings[key]
    return out


def agreement(row: dict[str, Any], result: dict[str, Any], *, fail_times: int | None = None) -> tuple[bool | None, str]:
    """Did the real run do what the row says? None when the run could not say (it errored)."""
    if result.get("verdict") == "error":
        return None, f"the run did not complete: {str(result.get('error') or '').splitlines()[0]}"
    observed = result.get("observed") or {}
    destination = observed.get("destination") or []
    poison = set((result.get("expected") or {}).get("poison") or [])
    # A poison record committed on a failing delivery (an ignored partial response) is lost too.
    silently = 0 if fail_times is not None else len(poison & set(observed.get("processed") or []))
    got = {"invocations": len(observed.get("invocations") or []), "failure_records": len(destination),
           "records_in_failure_records": sum(len(d["records"]) for d in destination),
           "good_in_failure_records": sum(1 for d in destination for i in d["records"]
                                          if fail_times is not None or i not in poison),
           "lost": (result.get("conservation") or {}).get("lost", 0) + sum(
               len(d.get("records") or []) for d in observed.get("dropped") or []) + silently}
    diffs = [f"{k}: oracle {row[k]}, real {v}" for k, v in got.items() if row[k] != v]
    oracle = [c["name"] for c in result.get("checks") or [] if c["name"].startswith("oracle:") and not c["passed"]]
    diffs.extend(f"failed check {name!r}" for name in oracle)
    return (not diffs), ("; ".join(diffs) or "the real run matched the oracle")


def verify(result: dict[str, Any], base: Base, source: Any, k: int,
           progress: Callable[[str], None] | None = None) -> None:
    """Run the K best rows for real; every row gets `verified` (true/false, or null when not run)."""
    from harness.scenarios.runner import run_scenario

    for row in result["rows"]:
        row["verified"] = None
    best = [i for i in ranked(result["rows"]) if not result["rows"][i].get("skipped")][:k]
    lid = base.pipeline.mapping.logical_id
    for n, i in enumerate(best, 1):
        row = result["rows"][i]
        if progress:
            progress(f"verify {n}/{len(best)}: row #{i} on the embedded backend")
        run = run_scenario(base.scenario, source=OverriddenSource(source, lid, row["settings"]), backend="embedded")
        row["verified"], row["verify_note"] = agreement(row, run, fail_times=base.scenario.fail_times)
