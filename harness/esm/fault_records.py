"""How the fault rules (harness.fault_rules) see a Lambda stream record: a `match` pattern is a
Lambda filter pattern read exactly as FilterCriteria read it (spec 7.4; Kinesis: over `data`,
spec 10), and a `partial` fault reports a record by the itemIdentifier Lambda expects (spec 2.2).

Why here: the rules live in the ground layer, the filter grammar and the record shapes in the
engine; the live fault injector (harness.faults) and the oracle (harness.esm.simulate) both build
their FaultPlan with these two functions, so a fault selects the same records in both.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from harness.esm.filtering import compile_pattern
from harness.esm.sources.registry import kind_of_record


def record_matcher(pattern: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over one Lambda-shaped record (either stream kind, or any other event record)."""
    compiled = compile_pattern(json.dumps(pattern), where="match")

    def matches(record: Mapping[str, Any]) -> bool:
        kind = kind_of_record(record)
        view = kind.filter_view if kind is not None else None
        try:
            return bool(compiled(view(record) if view is not None else record))
        except (TypeError, ValueError):
            return False

    return matches


def item_identifier(record: Mapping[str, Any]) -> str:
    """The record's itemIdentifier in batchItemFailures: its sequence number (spec 2.2)."""
    kind = kind_of_record(record)
    if kind is None:
        return str(record.get("eventID", ""))
    return kind.seq(record)  # type: ignore[arg-type]
