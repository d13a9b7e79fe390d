"""What a scenario's `faults:` mean for the judge (docs/faults.md).

- An item a fault on the consumer fails on every attempt is poison (it must end failed, and take
  no good record with it where the settings isolate it) unless the file sets `poison:` itself.
- An item a failing fault hits only `times` times must end processed (spec 1: retried until it
  succeeds).
- Every fault must have applied at least once, or the scenario proves nothing.

`run.fault_entries` are the scenario's entries with each `function` resolved to a logical id;
`run.stream` the records the stream held (for faults that select by `match`).
"""

from __future__ import annotations

from typing import Any

from harness.esm.fault_records import record_matcher
from harness.fault_rules import Fault, always_failed_items, always_failing, parse_faults
from harness.judging.observation import Observation
from harness.verdict import Check, check


def fault_poison(scenario: Any, entries: list[dict[str, Any]], consumer_lid: str, stream: list[Any]) -> list[int]:
    """Items a fault on the consumer fails on every attempt: poison for the judge (unless the file
    sets `poison:` itself)."""
    if not scenario.faults or not scenario.poison_from_faults:
        return []
    faults, _ = parse_faults(entries, scenario.where())
    by_pattern = {}

    def matched(f: Fault) -> list[int]:
        key = id(f)
        if key not in by_pattern:
            pred = record_matcher(f.match or {})
            by_pattern[key] = sorted({s.index for s in stream if s.index is not None and pred(s.record)})
        return by_pattern[key]

    return always_failed_items(faults, scenario.count, matched, function=consumer_lid)


def flaky_items(scenario: Any, entries: list[dict[str, Any]], consumer_lid: str) -> list[int]:
    """Items a failing fault on the consumer hits only `times` times: they must end processed."""
    if not scenario.faults:
        return []
    faults, _ = parse_faults(entries, scenario.where())
    always: set[int] = set()
    flaky: set[int] = set()
    for f in faults:
        if f.function != consumer_lid or f.items is None or f.kind not in ("error", "timeout", "crash", "partial"):
            continue
        (always if always_failing(f) else flaky).update(f.items)
    return sorted(flaky - always)


def fault_checks(obs: Observation, flaky: list[int], entries: list[dict[str, Any]]) -> list[Check]:
    """The scenario's faults happened, and what a fault failed only `times` times ended processed.

    Every fault entry must have been injected at least once (a fault that never applied means its
    items or match selected nothing this mapping delivered: the scenario proves nothing); an item
    failed `times` times must end processed (spec 1: retried until it succeeds)."""
    applied = sorted({f["fault_index"] for f in obs.faults})
    wanted = list(range(len(entries)))
    checks = [check("every fault of the scenario was injected (faults[i] applied at least once)", wanted, applied,
                    spec="1")]
    if flaky:
        where = {i: ("processed" if i in obs.processed else "not processed") for i in flaky}
        checks.append(check("items a fault failed only `times` times end processed (retried, spec 1)",
                            {i: "processed" for i in flaky}, where, spec="1"))
    return checks
