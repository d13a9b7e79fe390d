"""What a scenario is: a small declarative description the runner deploys, drives and judges.

Why declarative: the same description feeds the deployed pipeline (CDK context, wrapper,
injected items), the oracle (`run_simulation` spec: same mapping, same failing indexes) and the
report (title, spec sections, fidelity rules), so the three can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from harness.verdict import Check

if TYPE_CHECKING:  # pragma: no cover
    from harness.scenarios.observe import Observation
    from harness.scenarios.runner import ScenarioRun

WRAPPER_MODES = ("timeout", "crash", "partial-malformed", "success-shapes", "swallow", "flaky", "fixed")
CLOCKS = ("real", "virtual")
ORACLE_MODES = ("raise", "partial", "partial-malformed", "timeout")


class ScenarioError(ValueError):
    """A scenario description is wrong; the message names the scenario and the field."""


@dataclass(frozen=True)
class Scenario:
    """One scenario. `checks` adds scenario-specific expectations (what AWS does, with the spec
    section) to the generic ones every scenario gets (oracle comparison, conservation)."""

    name: str
    title: str
    description: str
    spec_sections: tuple[str, ...]
    context: dict[str, object]
    count: int
    poison: tuple[int, ...] = ()
    wrapper: str | None = None  # a mode of harness/scenarios/wrappers/scenario_wrapper.py
    wrapper_env: dict[str, str] = field(default_factory=dict)
    wrapper_timeout_s: float | None = None
    clock: str = "real"  # "virtual": the engine runs on a VirtualClock (record age without waiting)
    oracle_mode: str | None = None  # default: "partial" with reportBatchItemFailures, else "raise"
    oracle_fail: tuple[int, ...] | None = None  # default: the poison indexes
    oracle_fail_times: int | None = None
    destination_available: bool = True  # False: the prepare hook breaks the S3 destination
    prepare: Callable[["ScenarioRun"], None] | None = None  # after deploy, before polling
    after: Callable[["ScenarioRun"], None] | None = None  # after settle (e.g. replay)
    checks: Callable[["Observation", "ScenarioRun"], list[Check]] | None = None
    rules: tuple[tuple[str, str], ...] = ()  # (fidelity rule, spec section) this scenario exercises
    # Runs against AWS's own ESM (harness/scenarios/remote.py): only when the poison comes from the
    # data itself and nothing needs the local runtime, a virtual clock or the engine journal.
    aws: bool = False

    def __post_init__(self) -> None:
        where = f"scenario {self.name!r}"
        if not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise ScenarioError(f"{where}: name must be letters, digits, '-' or '_'")
        if not isinstance(self.count, int) or self.count < 1:
            raise ScenarioError(f"{where}: count must be a positive integer, got {self.count!r}")
        bad = [i for i in self.poison if not 0 <= i < self.count]
        if bad:
            raise ScenarioError(f"{where}: poison indexes {bad} are outside 0..{self.count - 1}")
        if self.wrapper is not None and self.wrapper not in WRAPPER_MODES:
            raise ScenarioError(f"{where}: wrapper {self.wrapper!r} is not one of {', '.join(WRAPPER_MODES)}")
        if self.clock not in CLOCKS:
            raise ScenarioError(f"{where}: clock {self.clock!r} is not one of {', '.join(CLOCKS)}")
        if self.oracle_mode is not None and self.oracle_mode not in ORACLE_MODES:
            raise ScenarioError(f"{where}: oracle_mode {self.oracle_mode!r} is not one of {', '.join(ORACLE_MODES)}")
        if not self.spec_sections:
            raise ScenarioError(f"{where}: spec_sections must name at least one section of esm-semantics.md")
        if self.aws and self.aws_blockers():
            raise ScenarioError(f"{where}: aws=True, but it cannot run against AWS's ESM: "
                                + "; ".join(self.aws_blockers()))

    def aws_blockers(self) -> list[str]:
        """Why this scenario cannot run against a stack deployed to AWS (empty: nothing structural).

        Why these: on AWS the consumer is the deployed code (no wrapper swap), time is real (no
        virtual clock), the stack is exactly what `cdk deploy` made (no prepare hook altering it),
        and there is no local runtime or engine journal for `after` hooks to drive or read.
        """
        out = []
        if self.wrapper is not None:
            out.append(f"it swaps the consumer's code for the {self.wrapper!r} wrapper (AWS runs the deployed consumer)")
        if self.clock != "real":
            out.append(f"it needs a {self.clock} clock (record age in real time on AWS would take minutes, "
                       "and AWS's retry cadence is not the engine's)")
        if self.prepare is not None or not self.destination_available:
            out.append("its prepare hook changes the deployed stack (e.g. a bucket policy), which the AWS run "
                       "leaves exactly as cdk deploy made it")
        if self.after is not None:
            out.append("its after hook drives the local runtime (e.g. replay into a fixed consumer)")
        return out

    def aws_exclusion(self) -> str | None:
        """The reason printed when an AWS run skips this scenario; None when it runs there."""
        if self.aws:
            return None
        blockers = self.aws_blockers()
        return "; ".join(blockers) if blockers else "not marked aws=True in its scenario file"

    @property
    def report_batch_item_failures(self) -> bool:
        return str(self.context.get("reportBatchItemFailures", False)).lower() == "true"

    def oracle_handler(self) -> dict[str, Any]:
        mode = self.oracle_mode or ("partial" if self.report_batch_item_failures else "raise")
        out: dict[str, Any] = {"fail": sorted(self.oracle_fail if self.oracle_fail is not None else self.poison),
                               "mode": mode}
        if self.oracle_fail_times is not None:
            out["fail_times"] = self.oracle_fail_times
        return out


@dataclass(frozen=True)
class Mutation:
    """A deliberate deviation from the scenario, to prove the judge can fail (mutation tests).

    `context` overrides CDK context keys (e.g. bisect off); `wrapper` swaps the consumer for a
    wrapper mode (e.g. "swallow": the consumer catches the poison error and reports success).
    """

    name: str
    context: dict[str, object] = field(default_factory=dict)
    wrapper: str | None = None

    def __post_init__(self) -> None:
        if self.wrapper is not None and self.wrapper not in WRAPPER_MODES:
            raise ScenarioError(f"mutation {self.name!r}: wrapper {self.wrapper!r} is not one of {', '.join(WRAPPER_MODES)}")
