"""What every language kind shares: the `Launch` it decides and the `LanguageKind` shape it has.

Kept apart from the package's `__init__`, which lists the kinds: each kind module imports these
types, and the list imports each kind, so the types cannot live beside the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness.runtime.spec import FunctionSpec, InvalidFunctionSpec


@dataclass(frozen=True)
class Launch:
    """How one function's workers start, decided once when the function is registered."""

    runtime: str  # the function's Runtime, e.g. "nodejs24.x"
    language: str  # "python" | "nodejs"
    version: str  # the executable's real version: "v24.11.0", "3.12.7"
    executable: Path
    argv: tuple[str, ...]
    environment: dict[str, str] = field(default_factory=dict)  # the language's own variables; they win
    warning: str | None = None  # set when the function does not run on the version its Runtime names


class LanguageKind(Protocol):
    name: str
    runtimes: tuple[str, ...]  # as named in the "not supported" error: "python3.x", "nodejs24.x"

    def serves(self, runtime: str) -> bool: ...

    def prepare(self, spec: FunctionSpec, *, journal: Any) -> Launch: ...


class UnsupportedRuntime(InvalidFunctionSpec):
    """A Runtime no language kind serves; the message names the function and the supported ones."""


__all__ = ["Launch", "LanguageKind", "UnsupportedRuntime"]
