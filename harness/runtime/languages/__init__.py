"""One worker kind per language: which `Runtime` values it serves and how its workers start.

A kind turns a FunctionSpec into a `Launch`: the executable (found on the machine or installed
once into the harness's cache), the worker's command line, and the variables AWS's bootstrap for
that language sets. The Worker itself is one class for every language: it speaks the Runtime
API, and takes only `Launch.argv` and `Launch.environment` from here. Adding a language is
adding a module with a `KIND` (built on the types of `base.py`) and listing it in `KINDS`, as
harness/deploy/resources does for resource types.
"""

from __future__ import annotations

from typing import Any

from harness.runtime.languages import nodejs, python
from harness.runtime.languages.base import Launch, LanguageKind, UnsupportedRuntime
from harness.runtime.spec import FunctionSpec

KINDS: tuple[LanguageKind, ...] = (python.KIND, nodejs.KIND)


def supported_runtimes() -> list[str]:
    return [runtime for kind in KINDS for runtime in kind.runtimes]


def kind_for(runtime: object, *, function: str = "?") -> LanguageKind:
    if isinstance(runtime, str):
        for kind in KINDS:
            if kind.serves(runtime):
                return kind
    raise UnsupportedRuntime(
        f"function {function!r}: runtime {runtime!r} is not supported by the local runtime; "
        f"supported: {', '.join(supported_runtimes())}"
    )


def prepare(spec: FunctionSpec, *, journal: Any = None) -> Launch:
    """The function's Launch, recorded in the journal as `runtime_selected` (the report shows it)."""
    launch = kind_for(spec.runtime, function=spec.name).prepare(spec, journal=journal)
    if journal is not None:
        journal.record(
            "runtime_selected",
            function=spec.name,
            runtime=launch.runtime,
            language=launch.language,
            version=launch.version,
            executable=str(launch.executable),
            warning=launch.warning,
        )
    return launch


__all__ = ["KINDS", "Launch", "LanguageKind", "UnsupportedRuntime", "kind_for", "prepare", "supported_runtimes"]
