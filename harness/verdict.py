"""A check: what was expected, what was observed, and whether they agree.

A check always carries both sides, so a failing run says what differed from AWS instead of
only that something did.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


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
