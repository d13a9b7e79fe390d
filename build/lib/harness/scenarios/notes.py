"""What a reader of a verdict must know about how the stack ran here, gathered from the journal.

A local run can differ from AWS in ways that are not failures but matter: a resource the pipeline
does not depend on was skipped, a function's dependencies were installed by the harness rather
than bundled, a function ran on another language version than its Runtime names. Each is one line
in the result and the report, never a silent difference.
"""

from __future__ import annotations

from typing import Any, Iterable


def stack_notes(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """`runtimes` (which version ran each function) and `notes` (plain-word lines), from journal entries."""
    runtimes: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for e in entries:
        kind = e.get("kind")
        if kind == "runtime_selected":
            runtimes[str(e.get("function"))] = {k: e.get(k) for k in ("runtime", "language", "version", "executable",
                                                                       "warning")}
            if e.get("warning"):
                notes.append(f"function {e.get('function')}: {e['warning']}")
        elif kind == "dependencies_installed":
            notes.append(f"function {e.get('function')}: {e.get('note') or 'dependencies installed locally'} "
                         f"({e.get('requirements')})")
        elif kind == "deploy_note" and str(e.get("note", "")).startswith("skipped:"):
            notes.append(f"{e.get('logical_id')}: {e['note']}")
    return {"runtimes": runtimes, "notes": list(dict.fromkeys(notes))}
