"""A scenario's `faults:` on its run: checked against the stack before anything deploys, installed
on the pipeline once deployed, and turned into the oracle's `faults` (the judge's side is
harness/judging/faults.py).

Why a fault's `function` is checked against the template, not the deployed stack: a typo must be
refused before a deploy costs seconds, naming the file, the fault and the field; the logical id
(or the construct id CDK derived it from) is what a team wrote in its app.
"""

from __future__ import annotations

from typing import Any

from harness.faults import FaultInjector
from harness.scenarios.model import Scenario, ScenarioError


def resolve_functions(scenario: Scenario, desc: Any, pipeline: Any) -> list[dict[str, Any]]:
    """The fault entries with `function` as the logical id it names (default: the mapping's
    consumer); ScenarioError naming the file, the fault and the field for a function not in the stack."""
    from harness.deploy.stack_model import names_logical_id

    functions = [f.logical_id for f in desc.functions]
    out = []
    for i, entry in enumerate(scenario.faults):
        entry = dict(entry)
        if "destination" in entry:
            if pipeline.mapping.destination is None:
                raise ScenarioError(f"{scenario.where()}: faults[{i}]: field 'destination': mapping "
                                    f"{pipeline.mapping.logical_id} has no on-failure destination to make unavailable")
            out.append(entry)
            continue
        name = entry.get("function")
        if name is None:
            entry["function"] = pipeline.consumer.logical_id
        else:
            found = [lid for lid in functions if names_logical_id(name, lid)]
            if len(found) != 1:
                why = "names no function" if not found else f"names several functions ({', '.join(found)})"
                raise ScenarioError(f"{scenario.where()}: faults[{i}]: field 'function': {name!r} {why} of stack "
                                    f"{desc.stack_name}; its functions: {', '.join(functions) or '(none)'}")
            entry["function"] = found[0]
        out.append(entry)
    return out


def install(pipe: Any, entries: list[dict[str, Any]], stack: Any, consumer: str, *, clock: Any) -> FaultInjector:
    """Apply the resolved entries to the running pipeline (before any record is polled)."""
    if not hasattr(pipe.runtime, "fault_hook") or not hasattr(pipe.esm, "destinations"):
        raise ScenarioError("faults need the local runtime and the harness's ESM (the embedded backend, or "
                            "--esm harness); this pipeline runs functions elsewhere")
    injector = FaultInjector(journal=pipe.journal, now=clock.now if clock is not None else _wall,
                             wait=clock is None, consumer=consumer, resolve=lambda lid: stack.functions[lid])
    injector.add(entries, where="faults")
    injector.install(pipe.runtime, pipe.esm)
    return injector


def _wall() -> float:
    import time

    return time.time()


def bind_stream(injector: FaultInjector, stream: list[Any]) -> None:
    """Which item wrote each stream record, for faults with `items`."""
    injector.bind_items({s.record.get("eventID"): s.index for s in stream if s.index is not None})


def oracle_faults(entries: list[dict[str, Any]], consumer_lid: str, stream: list[Any]) -> list[dict[str, Any]]:
    """The faults the oracle models: those on the consumer (items as stream positions) and the
    destination outages; faults on other functions (the failure handler) do not change what the ESM does."""
    out = []
    for entry in entries:
        if "destination" in entry:
            out.append(dict(entry))
            continue
        if entry.get("function") != consumer_lid:
            continue
        e = {k: v for k, v in entry.items() if k != "function"}
        if "items" in e:
            wanted = set(e["items"])
            e["items"] = [pos for pos, s in enumerate(stream) if s.index in wanted]
            if not e["items"]:
                continue  # its items wrote no record this mapping reads
        out.append(e)
    return out
