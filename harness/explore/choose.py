"""Which combinations are worth a look (the Pareto front) and which one to take (the recommendation).

The rule, stated on every page that shows it: fewest lost records, then fewest good records in
failure records, then fewest duplicate deliveries, then the shortest drain. Losing a good record
is the worst outcome there is; a good record in a failure record needs a replay; a duplicate needs
idempotence; time only costs latency. Among equals the deployed settings win (no change is the
cheapest change), then fewer invocations, then grid order.
"""

from __future__ import annotations

from typing import Any

RULE = ("fewest lost, then fewest good records in failure records, then fewest duplicate deliveries, "
        "then shortest drain (ties: the deployed settings, then fewer invocations)")
OBJECTIVES = ("lost", "good_in_failure_records", "duplicate_deliveries", "drain_s")


def rank_key(row: dict[str, Any], index: int) -> tuple:
    """Sort key of a row under the recommendation rule; skipped rows sort last."""
    if row.get("skipped"):
        return (1, 0, 0, 0, 0, 0, 0, index)
    return (0, *(row[k] for k in OBJECTIVES), not row["deployed"], row["invocations"], index)


def _dominates(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a[k] <= b[k] for k in OBJECTIVES) and any(a[k] < b[k] for k in OBJECTIVES)


def pareto(rows: list[dict[str, Any]]) -> list[int]:
    """Indexes of the simulated rows no other row beats on every objective (and strictly on one).
    Rows with equal objectives are all on the front."""
    live = [(i, r) for i, r in enumerate(rows) if not r.get("skipped")]
    return [i for i, r in live if not any(_dominates(o, r) for j, o in live if j != i)]


def recommend(rows: list[dict[str, Any]]) -> int | None:
    """Index of the row the rule picks; None when every row was skipped."""
    ranked = sorted(range(len(rows)), key=lambda i: rank_key(rows[i], i))
    return ranked[0] if ranked and not rows[ranked[0]].get("skipped") else None


def ranked(rows: list[dict[str, Any]]) -> list[int]:
    """Row indexes in recommendation order (skipped last)."""
    return sorted(range(len(rows)), key=lambda i: rank_key(rows[i], i))
