"""Conservation audit: every injected record ends in exactly one place AWS would account for.

injected = processed + filtered + in a failure record + dropped. A record in none of them is
lost (at-most-once, the one thing a stream pipeline must never do) and is named by its item
index, key and sequence number; a record in two places is named too, because double counting would
hide a loss elsewhere.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from harness.scenarios.observe import Observation
from harness.verdict import Check, check


def conservation(obs: Observation) -> dict[str, Any]:
    """The `conservation` block of a scenario result (schema in the scenarios brief)."""
    seq_of = {s.index: s.seq for s in obs.stream if s.index is not None}
    processed = set(obs.processed)
    filtered = set(obs.filtered)
    in_failures = {i for o in obs.failure_objects for i in o.records}
    dropped = {i for d in obs.dropped for i in d["records"]}
    where: Counter[int] = Counter()
    for bucket in (processed, filtered, in_failures, dropped):
        where.update(bucket)
    lost = [i["index"] for i in obs.injected if where[i["index"]] == 0]
    twice = [i["index"] for i in obs.injected if where[i["index"]] > 1]

    def name(i: int) -> str:
        key = obs.key_of.get(i, "?")
        seq = seq_of.get(i)
        return f"item {i} {key} (seq {seq})" if seq else f"item {i} {key} (not found in the stream)"

    return {
        "injected": len(obs.injected),
        "processed": len(processed),
        "filtered": len(filtered),
        "in_failure_records": len(in_failures),
        "dropped": len(dropped),
        "lost": len(lost),
        "lost_records": [name(i) for i in lost],
        "double_counted": [name(i) for i in twice],
    }


def conservation_checks(c: dict[str, Any]) -> list[Check]:
    accounted = c["processed"] + c["filtered"] + c["in_failure_records"] + c["dropped"]
    return [
        check("conservation: injected = processed + filtered + in failure records + dropped",
              c["injected"], accounted, spec="1 (end of retries), 7.2"),
        check("conservation: no record lost (names the lost records)", [], c["lost_records"], spec="1"),
        check("conservation: no record counted in two outcomes", [], c["double_counted"], spec="1"),
    ]
