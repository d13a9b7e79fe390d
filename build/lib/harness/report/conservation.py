"""Conservation totals: every injected record must end processed, filtered, in a failure record,
or knowingly dropped. `lost` is what the audit could not account for, and is what a reader must see.
"""

from __future__ import annotations

from typing import Any

from harness.report.model import CONSERVATION_FIELDS


def totals(scenarios: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum over the scenarios that have an audit; `audited` says how many did."""
    out: dict[str, Any] = {k: 0 for k in CONSERVATION_FIELDS}
    out["lost_records"] = []
    out["audited"] = 0
    for sc in scenarios:
        cons = sc.get("conservation")
        if not cons:
            continue
        out["audited"] += 1
        for k in CONSERVATION_FIELDS:
            out[k] += cons.get(k, 0)
        out["lost_records"].extend(f"{sc['name']}: {r}" for r in cons.get("lost_records", []))
    return out


def balanced(cons: dict[str, Any]) -> bool:
    """Whether the buckets add up to what was injected (at-least-once may process some twice)."""
    accounted = cons["processed"] + cons["filtered"] + cons["in_failure_records"] + cons["dropped"] + cons["lost"]
    return accounted >= cons["injected"]


__all__ = ["balanced", "totals"]
