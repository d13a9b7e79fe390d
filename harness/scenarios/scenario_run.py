"""A scenario while it runs: what its hooks (prepare, after, checks) and the YAML steps may use."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.esm import VirtualClock
from harness.pipeline import LocalPipeline
from harness.scenarios.model import Scenario
from harness.scenarios.target import Target
from harness.streams import StreamRecord, Write


@dataclass
class ScenarioRun:
    """A scenario while it runs: what hooks (prepare/after/checks) may use."""

    scenario: Scenario
    pipe: LocalPipeline
    workdir: Path
    target: Target
    stack: Any = None  # the DeployedStack: logical id -> what was created
    clock: VirtualClock | None = None
    writes: list[Write] = field(default_factory=list)
    stream: list[StreamRecord] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # what hooks learned; the judge sees it as obs.extra
    inboxes: Any = None  # the queues subscribed before the writes (harness.scenarios.observe.Inboxes)

    @property
    def consumer(self) -> str:
        """The function name the scenario's mapping invokes."""
        return self.target.consumer

    @property
    def items(self) -> list[dict[str, Any]]:
        return [dict(i) for i in self.scenario.items]

    def replace_function_code(self, function: str, code_dir: Path, handler: str, *,
                              environment: dict[str, str] | None = None, timeout_s: float | None = None) -> None:
        """Run `function` from other code (a wrapper around the real consumer, a fixed version...)."""
        replace_function_code(self.pipe, function, code_dir, handler, environment=environment, timeout_s=timeout_s)


def replace_function_code(pipe: LocalPipeline, function: str, code_dir: Path, handler: str, *,
                          environment: dict[str, str] | None = None, timeout_s: float | None = None) -> None:
    """Re-register a deployed function with other code on the local runtime (journaled)."""
    specs = {s.name: s for s in pipe.runtime.functions()}
    if function not in specs:
        raise RuntimeError(f"function {function!r} is not registered with the local runtime; "
                           f"registered: {', '.join(sorted(specs))}")
    spec = specs[function]
    pipe.runtime.register(dataclasses.replace(
        spec, code_dir=code_dir, handler=handler, environment={**spec.environment, **(environment or {})},
        timeout_s=timeout_s if timeout_s is not None else spec.timeout_s))
    pipe.journal.record("scenario_code", function=function, code_dir=str(code_dir), handler=handler,
                        env=environment or {}, timeout_s=timeout_s)


__all__ = ["ScenarioRun", "replace_function_code"]
