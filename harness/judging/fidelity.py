"""The fidelity matrix: for each spec rule the scenarios exercise, does this backend's pipeline match AWS?"""

from __future__ import annotations

from typing import Any


def fidelity(scenarios: list[Any], results: list[dict[str, Any]], backend: str) -> list[dict[str, Any]]:
    """One row per spec rule the scenarios exercise: does this backend's pipeline match AWS?

    A scenario that failed because its consumer did not behave as declared says nothing about the
    harness's fidelity to AWS: its rules read "consumer differs from its declaration", not "diverges".
    """
    by_name = {r["name"]: r for r in results}
    rules: dict[tuple[str, str], list[Any]] = {}
    for sc in scenarios:
        for rule in sc.rules:
            rules.setdefault(rule, []).append(sc)
    rows = []
    for (rule, spec), owners in rules.items():
        ran = [by_name[s.name] for s in owners if s.name in by_name]
        if not ran:
            status, reason = "not-run", f"scenario(s) {', '.join(s.name for s in owners)} not selected"
        elif all(r["verdict"] == "pass" for r in ran):
            status, reason = "matches", f"passed: {', '.join(r['name'] for r in ran)}"
        else:
            bad = [r for r in ran if r["verdict"] != "pass"]
            parts = []
            for r in bad:
                failing = [c["name"] for c in r["checks"] if not c["passed"]]
                parts.append(f"{r['name']} ({r['verdict']}: {r['error'] or '; '.join(failing[:3])})")
            blamed = all(r.get("blame") == "consumer" for r in bad)
            status = "consumer-differs" if blamed else "diverges"
            reason = "; ".join(parts)
        rows.append({"rule": rule, "spec": spec, "backend": backend, "status": status, "reason": reason})
    return rows
