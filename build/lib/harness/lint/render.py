"""Findings as plain text for the CLI and the report."""

from __future__ import annotations

from typing import Sequence

from harness.lint.finding import Finding


def lint_text(findings: Sequence[Finding]) -> str:
    """One block per finding (what, consequence, spec section), then a count; "No findings." when clean."""
    if not findings:
        return "No findings.\n"
    lines: list[str] = []
    for f in findings:
        lines.append(f"{f.severity} [{f.rule}] {f.mapping}")
        lines.append(f"  {f.message}")
        lines.append(f"  consequence: {f.consequence}")
        lines.append(f"  spec: {f.spec_section}")
        lines.append("")
    count = len(findings)
    mappings = len({f.mapping for f in findings})
    lines.append(f"{count} finding{'' if count == 1 else 's'} on {mappings} mapping{'' if mappings == 1 else 's'}")
    return "\n".join(lines) + "\n"
