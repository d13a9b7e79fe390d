"""Checks and the verdict table: what was expected, what was observed, and whether they agree.

A check always carries both sides, so a failing run says what differed from AWS instead of
only that something did.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    expected: Any
    observed: Any
    spec: str = ""  # the spec section the check rests on, if any

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check(name: str, expected: Any, observed: Any, *, spec: str = "") -> Check:
    return Check(name, expected == observed, expected, observed, spec)


def render(checks: list[Check], title: str, console: Console | None = None) -> None:
    table = Table(title=title, show_lines=False)
    table.add_column("check")
    table.add_column("spec")
    table.add_column("verdict")
    table.add_column("expected", overflow="fold", max_width=40)
    table.add_column("observed", overflow="fold", max_width=40)
    for c in checks:
        verdict = "[green]PASS[/]" if c.passed else "[red]FAIL[/]"
        table.add_row(c.name, c.spec, verdict, _short(c.expected), _short(c.observed))
    (console or Console()).print(table)


def _short(value: Any, limit: int = 160) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
