"""The scenario verdicts as plain text, for a console that is not a terminal (CI logs, pipes).

Why not the table: without a terminal rich assumes 80 columns, so a six-column table folds the
"what differed from AWS" column one word per line and a long error is cut. A log reader wants
each scenario on one line and every failing check whole, so the plain form prints exactly that,
indented under its scenario, never wrapped or truncated.
"""

from __future__ import annotations

from typing import Any

VERDICT = {"pass": "PASS", "fail": "FAIL"}
VALUE_LIMIT = 2000  # a check's expected/observed beyond this (thousands of indexes) is in the result JSON


def value_text(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= VALUE_LIMIT:
        return text
    return f"{text[:VALUE_LIMIT]}… ({len(text) - VALUE_LIMIT} more characters in the result JSON)"


def failing_checks(scenario: dict[str, Any]) -> list[str]:
    """Each failing check whole: name [spec]: expected ..., observed ..."""
    out = []
    for c in scenario.get("checks", []):
        if not c.get("passed"):
            spec = f" [spec {c['spec']}]" if c.get("spec") else ""
            out.append(f"{c['name']}{spec}: expected {value_text(c.get('expected'))}, "
                       f"observed {value_text(c.get('observed'))}")
    return out


def conservation_text(c: dict[str, Any]) -> str:
    """`injected = processed+filtered+in failure records+dropped, lost N`, or `-` before any run."""
    if not c:
        return "-"
    return (f"{c.get('injected', '?')} = {c.get('processed', '?')}+{c.get('filtered', '?')}"
            f"+{c.get('in_failure_records', '?')}+{c.get('dropped', '?')}, lost {c.get('lost', '?')}")


def plain_verdicts(result: dict[str, Any]) -> str:
    """One line per scenario (verdict, name, spec, checks passed, conservation), then, for a scenario
    that failed or could not run, every failing check or the error on its own indented lines."""
    run = result.get("run", {})
    scenarios = result.get("scenarios", [])
    width = max((len(str(s["name"])) for s in scenarios), default=0)
    lines = [f"scenario verdicts on {run.get('backend', '?')} ({float(run.get('wall_s', 0.0)):.1f}s)"]
    for s in scenarios:
        passed = sum(1 for x in s.get("checks", []) if x.get("passed"))
        spec = ", ".join(s.get("spec_sections") or []) or "-"
        lines.append(f"{VERDICT.get(s['verdict'], 'ERROR'):<5}  {str(s['name']):<{width}}  spec {spec}  "
                     f"checks {passed}/{len(s.get('checks', []))}  conservation {conservation_text(s.get('conservation') or {})}")
        if s.get("error"):
            lines.append("       error:")
            lines.extend(f"         {line}" for line in str(s["error"]).splitlines() if line.strip())
        elif s["verdict"] != "pass":
            lines.append("       what differed from AWS:")
            lines.extend(f"         {line}" for line in failing_checks(s))
    return "\n".join(lines)


__all__ = ["conservation_text", "failing_checks", "plain_verdicts", "value_text"]
