"""One row's numbers from one simulation: what a team weighs when it picks mapping settings.

Why these: the failure records (how many, how many good records ride along in them), duplicates
(good records delivered again: side effects run twice), records lost with nowhere to go (the
worst outcome), and time (how long until everything settled, how long one batch held its shard).
Every count is derived from the oracle's output alone (`run_simulation`), whose indexes are item
indexes here (the stream is built one record per item, in order).
"""

from __future__ import annotations

from typing import Any

METRICS = ("invocations", "deliveries", "duplicate_deliveries", "failure_records", "records_in_failure_records",
           "good_in_failure_records", "lost", "drain_s", "max_blocked_s")


def row_metrics(sim: dict[str, Any], *, poison: set[int], fail_times: int | None) -> dict[str, Any]:
    """The row's numbers from a simulation's output.

    - `good_in_failure_records`: records in failure records that the consumer could process: not
      poison, or poison that fails only its first `fail_times` deliveries (a transient error a
      retry would have got past).
    - `duplicate_deliveries`: deliveries of good (non-poison) records beyond their first.
    - `lost`: records dropped with no destination (retries or age ended with none, delivery
      failed, or trimmed by retention), and poison records the mapping committed although the
      consumer failed them on every delivery (a partial response Lambda ignores, spec 2.2):
      nobody processed them and nothing kept them.
    - `drain_s`: virtual seconds from the first poll until the last record settled (committed,
      written to the destination or dropped).
    - `max_blocked_s`: the longest any record stayed in flight between its first delivery and
      its settling; the records behind it on its shard (or lane) waited at least that long.
    """
    first: dict[int, float] = {}
    settled: dict[int, float] = {}
    deliveries: dict[int, int] = {}
    total = 0
    for inv in sim["invocations"]:
        t = inv["t"]
        for i in inv["records"]:
            total += 1
            deliveries[i] = deliveries.get(i, 0) + 1
            if i not in first:
                first[i] = t
            settled[i] = t  # committed at its last delivery, unless it went to a destination or was dropped
    in_failure = 0
    good_in_failure = 0
    always_failing = poison if fail_times is None else set()
    for d in sim["destination"]:
        for i in d["records"]:
            in_failure += 1
            good_in_failure += i not in always_failing
            settled[i] = max(settled.get(i, d["t"]), d["t"])
    for d in sim.get("drops", ()):
        for i in d["records"]:
            settled[i] = max(settled.get(i, d["t"]), d["t"])
    lost = set(sim["dropped"]) | set(sim["trimmed"])
    for i in sim["processed"]:
        if i in poison and (fail_times is None or deliveries.get(i, 0) <= fail_times):
            lost.add(i)  # every delivery failed, yet it was committed
    blocked = max((settled[i] - first[i] for i in first), default=0.0)
    return {
        "invocations": len(sim["invocations"]),
        "deliveries": total,
        "duplicate_deliveries": sum(n - 1 for i, n in deliveries.items() if i not in poison),
        "failure_records": len(sim["destination"]),
        "records_in_failure_records": in_failure,
        "good_in_failure_records": good_in_failure,
        "lost": len(lost),
        "drain_s": round(max(settled.values(), default=0.0), 3),
        "max_blocked_s": round(blocked, 3),
    }
