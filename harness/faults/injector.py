"""FaultInjector: one set of faults applied to one live pipeline, changeable while it runs.

Why in the parent process: the decision needs the whole event and a count shared by every worker
of a function (`times`), and one implementation of the rules must serve Python and Node.js
alike; the runtime then carries out the decided Action around the untouched handler
(harness.runtime.faulting). An invocation no fault targets costs one set lookup.

Every fault that applies is journaled as `fault_injected` (function, kind, fault index, the
records of the invocation and those selected, the attempt), and every delivery an outage refuses
as `fault_injected` with `fault: destination-unavailable`; reports draw both on the timeline.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Callable, Mapping

from harness.esm.destinations import GatedDestinations
from harness.esm.fault_records import item_identifier, record_matcher
from harness.esm.sources.registry import kind_of_record
from harness.fault_rules import (Action, DestinationOutage, Fault, FaultPlan, OutageGate, fault_dict,
                                 outage_dict, parse_faults)


class FaultTargetError(ValueError):
    """A fault names a function (or items) this stack does not have; the message says which."""


class FaultInjector:
    """Faults for one pipeline. `resolve(name)` turns a fault's `function` (logical id, construct id
    or function name) into the deployed function name, or raises FaultTargetError; `consumer` is
    the default target."""

    def __init__(self, *, journal: Any, now: Callable[[], float], wait: bool = True, consumer: str | None = None,
                 resolve: Callable[[str], str] | None = None) -> None:
        self._journal = journal
        self._now = now
        self._wait = wait
        self._consumer = consumer
        self._resolve = resolve or (lambda name: name)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._outages: list[DestinationOutage] = []
        self._item_of_event: dict[str, int] = {}
        self._plan: FaultPlan | None = None
        self._targets: frozenset[str] = frozenset()
        self._gate = OutageGate([], now=now)

    # ---- configuration ---------------------------------------------------------------------
    def add(self, entries: Any, *, where: str = "faults") -> list[dict[str, Any]]:
        """Validate and add `faults:` entries; returns them as resolved (function names filled in)."""
        faults, outages = parse_faults(entries, where)
        with self._lock:
            base = len(self._faults) + len(self._outages)
            resolved = []
            for f in faults:
                name = f.function or self._consumer
                if name is None:
                    raise FaultTargetError(f"{where}: faults[{f.index}]: field 'function' is required: "
                                           "this stack has no single consumer to default to")
                try:
                    target = self._resolve(name)
                except FaultTargetError as exc:
                    raise FaultTargetError(f"{where}: faults[{f.index}]: field 'function': {exc}") from None
                resolved.append(Fault(**{**f.__dict__, "index": base + f.index, "function": target}))
            self._faults += resolved
            self._outages += [DestinationOutage(index=base + o.index, times=o.times, seconds=o.seconds)
                              for o in outages]
            self._rebuild()
        return [fault_dict(f) for f in resolved] + [outage_dict(o) for o in outages]

    def clear(self) -> int:
        """Remove every fault and outage; how many there were."""
        with self._lock:
            n = len(self._faults) + len(self._outages)
            self._faults, self._outages = [], []
            self._rebuild()
        return n

    def listed(self) -> list[dict[str, Any]]:
        """The faults in force, with how many invocations (or deliveries) each has hit so far."""
        with self._lock:
            used = self._plan.used() if self._plan is not None else {}
            out = [{**fault_dict(f), "index": f.index, "applied": used.get(f.index, 0)} for f in self._faults]
            out += [{**outage_dict(o), "index": o.index} for o in self._outages]
        return out

    def bind_items(self, item_of_event: Mapping[str, int]) -> None:
        """Which item wrote each stream record (eventID -> item index), for faults with `items`."""
        with self._lock:
            self._item_of_event = dict(item_of_event)

    def _item_of(self, record: Any) -> int | None:
        return self._item_of_event.get(record.get("eventID")) if isinstance(record, dict) else None

    def _rebuild(self) -> None:
        self._plan = FaultPlan(self._faults, matcher=record_matcher, item_of=self._item_of,
                               identifier=item_identifier, wait=self._wait) if self._faults else None
        self._targets = frozenset(f.function for f in self._faults if f.function)
        self._gate = OutageGate(self._outages, now=self._now)

    # ---- the pipeline's side ----------------------------------------------------------------
    def install(self, runtime: Any, esm: Any = None) -> None:
        """Apply to a running pipeline: the runtime's invokes and the ESM's destination writes."""
        runtime.fault_hook = self.hook
        if esm is not None and not isinstance(esm.destinations, GatedDestinations):
            esm.destinations = GatedDestinations(esm.destinations, self._refuses, on_refused=self._refused)

    def _refuses(self) -> DestinationOutage | None:
        return self._gate.refuses() if self._outages else None

    def _refused(self, failure: Any, outage: DestinationOutage) -> None:
        if self._journal is not None:
            self._journal.record("fault_injected", fault="destination-unavailable", fault_index=outage.index,
                                 destination=failure.destination_arn, sequence_numbers=failure.sequence_numbers())

    def hook(self, function_name: str, payload: bytes) -> Action | None:
        """The runtime's fault hook: the Action for this invoke, journaled, or None."""
        name = function_name.partition(":")[0]
        plan = self._plan
        if plan is None or name not in self._targets:
            return None
        try:
            event = json.loads(payload)
        except ValueError:
            event = None
        records = event.get("Records") if isinstance(event, dict) else None
        records = records if isinstance(records, list) else []
        action = plan.decide(name, records)
        if action is not None and self._journal is not None:
            # Sequence numbers of stream records only: a failure handler's S3 event has none.
            seqs = [item_identifier(r) if kind_of_record(r) is not None else "" for r in records]
            self._journal.record(
                "fault_injected", function=name, fault=action.kind, fault_index=action.fault_index,
                attempt=action.attempt, after_handler=action.after_handler, sequence_numbers=[q for q in seqs if q],
                selected=[seqs[p] for p in action.positions if p < len(seqs) and seqs[p]],
                items=sorted({self._item_of_event[r["eventID"]] for p, r in enumerate(records)
                              if p in set(action.positions) and isinstance(r, dict)
                              and r.get("eventID") in self._item_of_event}))
        return action
