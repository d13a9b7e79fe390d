"""What a scenario is: the items a team writes into its own stream, which of them are poison, and
what the pipeline must then do.

Why declarative: the same description feeds the deployed pipeline (CDK context, the items written),
the oracle (`run_simulation` over the records the stream really held, the declared consumer
behaviour) and the report (title, spec sections, fidelity rules), so the three never drift apart.
A scenario knows nothing of the stack's domain: items are plain JSON, poison is a list of indexes,
and a stack's own helpers (the sample's orders, its wrappers) live beside its scenario files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from harness.verdict import Check

if TYPE_CHECKING:  # pragma: no cover
    from harness.scenarios.observe import Observation
    from harness.scenarios.runner import ScenarioRun

CLOCKS = ("real", "virtual")
# How the consumer fails on a poison record. raise: an unhandled error for the whole batch;
# partial: a batchItemFailures response naming the poison records (spec 2.2); partial-or-raise:
# partial, but raises when every record of the batch failed (Powertools' BatchProcessor default);
# partial-malformed: a partial response whose itemIdentifier is not in the batch (spec 2.3);
# timeout: the function runs past its timeout (a function error, spec 1).
HANDLERS = ("raise", "partial", "partial-or-raise", "partial-malformed", "timeout")
# Write operations an item entry may name; a plain object is a PutItem (DynamoDB) or a record (Kinesis).
OPS = ("$put", "$update", "$delete")
UPDATE_PARTS = ("$set", "$remove")


class ScenarioError(ValueError):
    """A scenario description is wrong; the message names the scenario (or file), the item and the field."""


@dataclass(frozen=True)
class Scenario:
    """One scenario. `checks` (Python scenarios only) adds expectations to the defaults every
    scenario gets (conservation, poison outcome, isolation, envelope, order, oracle, handler)."""

    name: str
    title: str
    items: tuple[Mapping[str, Any], ...]  # written in order: plain items, or {"$update": key, "$set": ...}...
    description: str = ""
    poison: tuple[int, ...] = ()  # indexes into items the consumer must fail on
    context: dict[str, object] = field(default_factory=dict)  # CDK context for this scenario's deployment
    table: str | None = None  # logical id of the table (or Kinesis stream) when the stack has several
    mapping: str | None = None  # logical id of the event source mapping when the stack has several
    handler: str | None = None  # one of HANDLERS; None: "partial" with ReportBatchItemFailures, else "raise"
    fail_times: int | None = None  # poison fails only its first N deliveries (a flaky consumer)
    expect: Mapping[str, Any] = field(default_factory=dict)  # overrides, see harness/scenarios/expectations.py
    steps: tuple[Mapping[str, Any], ...] = ()  # YAML `after`: fix, then replay (harness/scenarios/steps.py)
    spec_sections: tuple[str, ...] = ()
    clock: str = "real"  # "virtual": the engine runs on a VirtualClock (record age without waiting)
    source_file: str | None = None  # where the scenario was read from, for error messages
    # -- Python scenarios only: hooks into the run -------------------------------------------------
    destination_available: bool = True  # False: the prepare hook breaks the S3 destination (spec 7.3)
    prepare: Callable[["ScenarioRun"], None] | None = None  # after deploy, before the items are written
    after: Callable[["ScenarioRun"], None] | None = None  # after settle (e.g. replay)
    checks: Callable[["Observation", "ScenarioRun"], list[Check]] | None = None
    rules: tuple[tuple[str, str], ...] = ()  # (fidelity rule, spec section) this scenario exercises
    # Runs against AWS's own ESM (harness/scenarios/remote.py): only when the poison comes from the
    # data itself and nothing needs the local runtime, a virtual clock or the engine journal.
    aws: bool = False

    def __post_init__(self) -> None:
        from harness.scenarios.expectations import check_expect

        where = self.where()
        if not isinstance(self.name, str) or not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise ScenarioError(f"{where}: name must be letters, digits, '-' or '_', got {self.name!r}")
        if not isinstance(self.title, str) or not self.title:
            raise ScenarioError(f"{where}: title must be a non-empty string")
        if not isinstance(self.items, tuple) or not self.items:
            raise ScenarioError(f"{where}: items must be a non-empty list of items to write")
        for i, item in enumerate(self.items):
            check_item(item, f"{where}: items[{i}]")
        bad = [i for i in self.poison if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self.items)]
        if bad:
            raise ScenarioError(f"{where}: poison indexes {bad} are not item indexes 0..{len(self.items) - 1}")
        if len(set(self.poison)) != len(self.poison):
            raise ScenarioError(f"{where}: poison lists an index twice: {list(self.poison)}")
        if self.handler is not None and self.handler not in HANDLERS:
            raise ScenarioError(f"{where}: handler {self.handler!r} is not one of {', '.join(HANDLERS)}")
        if self.fail_times is not None and (isinstance(self.fail_times, bool) or not isinstance(self.fail_times, int)
                                            or self.fail_times < 1):
            raise ScenarioError(f"{where}: fail_times must be an integer >= 1, got {self.fail_times!r}")
        if self.clock not in CLOCKS:
            raise ScenarioError(f"{where}: clock {self.clock!r} is not one of {', '.join(CLOCKS)}")
        if not isinstance(self.context, dict) or not all(isinstance(k, str) for k in self.context):
            raise ScenarioError(f"{where}: context must be a mapping of CDK context keys to values")
        for name in ("table", "mapping"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ScenarioError(f"{where}: {name} must be a logical id (a non-empty string), got {value!r}")
        try:
            check_expect(self.expect, poison=self.poison, count=len(self.items))
            from harness.scenarios.steps import check_step

            for n, step in enumerate(self.steps):
                check_step(step, f"after[{n}]")
        except ValueError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        if self.aws and self.aws_blockers():
            raise ScenarioError(f"{where}: aws=True, but it cannot run against AWS's ESM: "
                                + "; ".join(self.aws_blockers()))

    def where(self) -> str:
        """How errors name this scenario: its file when it came from one."""
        label = f"scenario {self.name!r}"
        return f"{self.source_file}: {label}" if self.source_file else label

    @property
    def count(self) -> int:
        return len(self.items)

    def aws_blockers(self) -> list[str]:
        """Why this scenario cannot run against a stack deployed to AWS (empty: nothing structural).

        Why these: on AWS the consumer is the deployed code (nothing can swap it), time is real
        (no virtual clock), the stack is exactly what `cdk deploy` made (no prepare hook altering
        it), and there is no local runtime or engine journal for `after` hooks to drive or read.
        """
        out = []
        if self.clock != "real":
            out.append(f"it needs a {self.clock} clock (record age in real time on AWS would take minutes, "
                       "and AWS's retry cadence is not the engine's)")
        if self.prepare is not None or not self.destination_available:
            out.append("its prepare hook changes the deployed stack or its code (e.g. a wrapper or a bucket policy), "
                       "which the AWS run leaves exactly as cdk deploy made it")
        if self.after is not None or self.steps:
            out.append("its after hook or steps drive the local runtime (e.g. replay into a fixed consumer)")
        return out

    def aws_exclusion(self) -> str | None:
        """The reason printed when an AWS run skips this scenario; None when it runs there."""
        if self.aws:
            return None
        blockers = self.aws_blockers()
        return "; ".join(blockers) if blockers else "not marked aws=True in its scenario file"

    def handler_mode(self, report_batch_item_failures: bool) -> str:
        """The declared consumer behaviour; the default follows the mapping as deployed (spec 2.2)."""
        return self.handler or ("partial" if report_batch_item_failures else "raise")


def check_item(item: Any, where: str) -> None:
    """The shape every item entry must have, whatever the stream: the stream's own writer checks the rest."""
    if not isinstance(item, Mapping) or not item:
        raise ScenarioError(f"{where}: an item must be a non-empty object, got {item!r}")
    ops = [k for k in item if k in OPS]
    dollar = [k for k in item if isinstance(k, str) and k.startswith("$")]
    if not ops:
        if dollar:
            raise ScenarioError(f"{where}: field {dollar[0]!r}: fields starting with '$' are reserved for "
                                f"{', '.join(OPS + UPDATE_PARTS)}")
        return
    if len(ops) > 1:
        raise ScenarioError(f"{where}: names {' and '.join(ops)}; an item is one write")
    op = ops[0]
    extra = [k for k in item if k != op and not (op == "$update" and k in UPDATE_PARTS)]
    if extra:
        raise ScenarioError(f"{where}: field {extra[0]!r} is not allowed next to {op}")
    if not isinstance(item[op], Mapping) or not item[op]:
        raise ScenarioError(f"{where}: field {op!r} must be a non-empty object ("
                            + ("the item" if op == "$put" else "the item's key") + ")")
    if op == "$update":
        if "$set" not in item and "$remove" not in item:
            raise ScenarioError(f"{where}: $update needs $set (attributes to set) and/or $remove (names to remove)")
        if "$set" in item and (not isinstance(item["$set"], Mapping) or not item["$set"]):
            raise ScenarioError(f"{where}: field '$set' must be a non-empty object of attributes")
        remove = item.get("$remove", [])
        if not isinstance(remove, list) or not all(isinstance(n, str) and n for n in remove):
            raise ScenarioError(f"{where}: field '$remove' must be a list of attribute names")


@dataclass(frozen=True)
class Mutation:
    """A deliberate deviation from the scenario, to prove the judge can fail (mutation tests).

    `context` overrides CDK context keys (e.g. bisect off); `prepare` runs after the scenario's
    own prepare hook (e.g. the sample's wrapper that swallows poison errors).
    """

    name: str
    context: dict[str, object] = field(default_factory=dict)
    prepare: Callable[["ScenarioRun"], None] | None = None
