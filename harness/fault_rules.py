"""Fault rules: which invocation a fault applies to, and what the runtime then does to it.

One implementation of the rules for everything that injects or predicts a fault: the local
runtime (through harness.faults, which decides per invoke in the parent process and hands the
runtime an `Action`), the oracle (`shardproof simulate`'s scripted handler) and the scenario loader
(which validates the `faults:` list before anything deploys).

Why in the ground layer and not in `harness/faults/`: the oracle (harness.esm.simulate) and the
runtime (harness.runtime) sit in the engine layer, below `faults/`, and both need these rules.
The one piece that belongs to the engine, matching a Lambda filter pattern against a record
(harness.esm.filtering), is passed in as `matcher` by whoever builds a `FaultPlan`, so this module
imports nothing from above it.

A fault entry (YAML/JSON, or the simulate spec's `faults`):

    fault: error | timeout | crash | throttle | latency | partial
    function: the function it targets (default: the mapping's consumer)
    items: [item indexes]    or   match: <a Lambda filter pattern over each record>
    times: N                 only the first N matching invocations (default: every one)
    message: "..."           error only
    latency_ms: N            latency only
    after_handler: true      the handler runs first (its side effects happen), then the fault

and a destination outage entry: `destination: unavailable` with `times` (the first N deliveries
are refused) or `seconds` (deliveries in the first N seconds are refused); neither: every one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping

KINDS = ("error", "timeout", "crash", "throttle", "latency", "partial")
FAULT_FIELDS = ("fault", "function", "items", "match", "times", "message", "latency_ms", "after_handler")
OUTAGE_FIELDS = ("destination", "times", "seconds")
# A throttle is refused before the function runs (spec 1), so it has no "after the handler".
AFTER_HANDLER_KINDS = ("error", "timeout", "crash", "latency", "partial")
DEFAULT_MESSAGE = "injected fault"
INJECTED_ERROR_TYPE = "InjectedFault"

# Kinds that make the invocation fail as a function error every time they apply (spec 1): an item
# they hit on every attempt ends failed, so it is poison for the judge.
FAILING_KINDS = ("error", "timeout", "crash", "partial")


class FaultSpecError(ValueError):
    """A fault entry is wrong; the message names where (file or spec), the fault's index and the field."""


@dataclass(frozen=True)
class Fault:
    """One `faults:` entry, validated. `function` is as written until a caller resolves it."""

    index: int
    kind: str
    function: str | None = None
    items: tuple[int, ...] | None = None
    match: Mapping[str, Any] | None = None
    times: int | None = None
    message: str = DEFAULT_MESSAGE
    latency_ms: int = 0
    after_handler: bool = False

    @property
    def selects_all(self) -> bool:
        return self.items is None and self.match is None


@dataclass(frozen=True)
class DestinationOutage:
    """`destination: unavailable`: the on-failure destination refuses delivery (spec 7.3)."""

    index: int
    times: int | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class Action:
    """What the runtime does to one invocation: decided here, carried out by the runtime.

    `positions` are the indexes, in the event's Records, of the records the fault selected;
    `identifiers` their itemIdentifiers (sequence numbers) for a `partial` fault. `wait`: False
    under a virtual clock, where a timeout or latency is reported without waiting it out.
    """

    kind: str
    fault_index: int
    attempt: int
    message: str = DEFAULT_MESSAGE
    latency_ms: int = 0
    after_handler: bool = False
    positions: tuple[int, ...] = ()
    identifiers: tuple[str, ...] = ()
    wait: bool = True


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_faults(raw: Any, where: str) -> tuple[list[Fault], list[DestinationOutage]]:
    """The faults and destination outages of a `faults:` list; FaultSpecError names
    `where`, the fault (`faults[i]`) and the field."""
    if raw is None:
        return [], []
    if not isinstance(raw, (list, tuple)):
        raise FaultSpecError(f"{where}: faults must be a list of fault entries, got {type(raw).__name__}")
    faults: list[Fault] = []
    outages: list[DestinationOutage] = []
    for i, entry in enumerate(raw):
        at = f"{where}: faults[{i}]"
        if not isinstance(entry, Mapping):
            raise FaultSpecError(f"{at}: a fault must be an object (fault: error|..., or destination: unavailable), "
                                 f"got {entry!r}")
        if "destination" in entry:
            outages.append(_outage(entry, i, at))
        elif "fault" in entry:
            faults.append(_fault(entry, i, at))
        else:
            raise FaultSpecError(f"{at}: field 'fault' is required (one of {', '.join(KINDS)}), "
                                 "or 'destination: unavailable'")
    return faults, outages


def _times(entry: Mapping[str, Any], at: str) -> int | None:
    times = entry.get("times")
    if times is not None and (not _is_int(times) or times < 1):
        raise FaultSpecError(f"{at}: field 'times' must be an integer >= 1, got {times!r}")
    return times


def _outage(entry: Mapping[str, Any], i: int, at: str) -> DestinationOutage:
    unknown = [k for k in entry if k not in OUTAGE_FIELDS]
    if unknown:
        raise FaultSpecError(f"{at}: field {unknown[0]!r} is not a destination outage field "
                             f"(known: {', '.join(OUTAGE_FIELDS)})")
    if entry["destination"] != "unavailable":
        raise FaultSpecError(f"{at}: field 'destination' must be 'unavailable', got {entry['destination']!r}")
    times = _times(entry, at)
    seconds = entry.get("seconds")
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or float(seconds) <= 0:
            raise FaultSpecError(f"{at}: field 'seconds' must be a number > 0, got {seconds!r}")
        seconds = float(seconds)
    if times is not None and seconds is not None:
        raise FaultSpecError(f"{at}: field 'seconds': give times or seconds, not both")
    return DestinationOutage(index=i, times=times, seconds=seconds)


def _fault(entry: Mapping[str, Any], i: int, at: str) -> Fault:
    unknown = [k for k in entry if k not in FAULT_FIELDS]
    if unknown:
        raise FaultSpecError(f"{at}: field {unknown[0]!r} is not a fault field (known: {', '.join(FAULT_FIELDS)})")
    kind = entry["fault"]
    if kind not in KINDS:
        raise FaultSpecError(f"{at}: field 'fault' must be one of {', '.join(KINDS)}, got {kind!r}")
    function = entry.get("function")
    if function is not None and (not isinstance(function, str) or not function):
        raise FaultSpecError(f"{at}: field 'function' must be a logical id or construct id, got {function!r}")
    if "items" in entry and "match" in entry:
        raise FaultSpecError(f"{at}: field 'match': give items or match, not both")
    items = entry.get("items")
    if items is not None:
        if not isinstance(items, (list, tuple)) or not items or not all(_is_int(n) and n >= 0 for n in items):
            raise FaultSpecError(f"{at}: field 'items' must be a non-empty list of item indexes, got {items!r}")
        items = tuple(int(n) for n in items)
    match = entry.get("match")
    if match is not None and (not isinstance(match, Mapping) or not match):
        raise FaultSpecError(f"{at}: field 'match' must be a Lambda filter pattern (a non-empty object), got {match!r}")
    message = entry.get("message", DEFAULT_MESSAGE)
    if "message" in entry and kind != "error":
        raise FaultSpecError(f"{at}: field 'message' applies to fault: error only (this is {kind})")
    if not isinstance(message, str) or not message:
        raise FaultSpecError(f"{at}: field 'message' must be a non-empty string, got {message!r}")
    latency = entry.get("latency_ms", 0)
    if kind == "latency":
        if "latency_ms" not in entry:
            raise FaultSpecError(f"{at}: field 'latency_ms' is required for fault: latency")
    elif "latency_ms" in entry:
        raise FaultSpecError(f"{at}: field 'latency_ms' applies to fault: latency only (this is {kind})")
    if not _is_int(latency) or latency < 0:
        raise FaultSpecError(f"{at}: field 'latency_ms' must be an integer >= 0, got {latency!r}")
    after = entry.get("after_handler", False)
    if not isinstance(after, bool):
        raise FaultSpecError(f"{at}: field 'after_handler' must be true or false, got {after!r}")
    if after and kind not in AFTER_HANDLER_KINDS:
        raise FaultSpecError(f"{at}: field 'after_handler': a {kind} never reaches the function, so it cannot "
                             "come after the handler")
    return Fault(index=i, kind=kind, function=function, items=items, match=match, times=_times(entry, at),
                 message=message, latency_ms=latency, after_handler=after)


def fault_dict(f: Fault) -> dict[str, Any]:
    """A fault back as the entry that describes it (journal, simulate spec, `faults list`)."""
    out: dict[str, Any] = {"fault": f.kind}
    if f.function is not None:
        out["function"] = f.function
    if f.items is not None:
        out["items"] = list(f.items)
    if f.match is not None:
        out["match"] = f.match
    if f.times is not None:
        out["times"] = f.times
    if f.kind == "error":
        out["message"] = f.message
    if f.kind == "latency":
        out["latency_ms"] = f.latency_ms
    if f.after_handler:
        out["after_handler"] = True
    return out


def outage_dict(o: DestinationOutage) -> dict[str, Any]:
    out: dict[str, Any] = {"destination": "unavailable"}
    if o.times is not None:
        out["times"] = o.times
    if o.seconds is not None:
        out["seconds"] = o.seconds
    return out


def always_failing(f: Fault) -> bool:
    """A fault that fails every invocation it selects, with no `times`: what it hits ends failed (spec 1)."""
    return f.kind in FAILING_KINDS and f.times is None


def always_failed_items(faults: list[Fault], count: int, matched: Callable[[Fault], list[int]] | None = None,
                        function: str | None = None) -> list[int]:
    """Items a fault fails on every attempt: poison for the judge unless `poison:` says otherwise.
    `matched(fault)` gives the items a `match` fault selects (the caller knows the records);
    `function`: only faults on that function (the consumer) count."""
    out: set[int] = set()
    for f in faults:
        if not always_failing(f) or (function is not None and f.function not in (None, function)):
            continue
        if f.items is not None:
            out.update(i for i in f.items if i < count)
        elif f.match is not None:
            out.update(matched(f) if matched is not None else ())
        else:
            out.update(range(count))
    return sorted(out)


Matcher = Callable[[Mapping[str, Any]], Callable[[Mapping[str, Any]], bool]]


class FaultPlan:
    """Decides, invocation by invocation, which fault applies; counts `times`. Thread-safe.

    `matcher(pattern)` compiles a `match` pattern into a record predicate (the engine's filter
    grammar, spec 7.4). `item_of(record)` names the item a record was written by (None if
    none); `identifier(record)` its itemIdentifier. Faults are tried in list order; the first
    that selects the invocation and has `times` left applies.
    """

    def __init__(self, faults: list[Fault], *, matcher: Matcher, item_of: Callable[[Mapping[str, Any]], int | None],
                 identifier: Callable[[Mapping[str, Any]], str], wait: bool = True) -> None:
        self.faults = list(faults)
        self._match = {f.index: matcher(f.match) for f in self.faults if f.match is not None}
        self._items = {f.index: frozenset(f.items) for f in self.faults if f.items is not None}
        self._item_of = item_of
        self._identifier = identifier
        self._wait = wait
        self._used: dict[int, int] = {}
        self._lock = threading.Lock()
        self.functions = frozenset(f.function for f in self.faults if f.function is not None)

    def _selected(self, f: Fault, records: list[Mapping[str, Any]]) -> tuple[int, ...] | None:
        if f.index in self._items:
            wanted = self._items[f.index]
            sel = tuple(p for p, r in enumerate(records) if self._item_of(r) in wanted)
        elif f.index in self._match:
            pred = self._match[f.index]
            sel = tuple(p for p, r in enumerate(records) if pred(r))
        else:
            return tuple(range(len(records)))
        return sel or None

    def decide(self, function: str | None, records: list[Mapping[str, Any]]) -> Action | None:
        """The action for one invocation of `function` over `records`, or None (the handler runs as is).
        A fault with no `function` applies to any."""
        for f in self.faults:
            if f.function is not None and function is not None and f.function != function:
                continue
            sel = self._selected(f, records)
            if sel is None:
                continue
            with self._lock:
                used = self._used.get(f.index, 0)
                if f.times is not None and used >= f.times:
                    continue
                self._used[f.index] = used + 1
            ids = tuple(self._identifier(records[p]) for p in sel) if f.kind == "partial" else ()
            return Action(kind=f.kind, fault_index=f.index, attempt=used + 1, message=f.message,
                          latency_ms=f.latency_ms, after_handler=f.after_handler, positions=sel, identifiers=ids,
                          wait=self._wait)
        return None

    def used(self) -> dict[int, int]:
        """How many invocations each fault has applied to so far (fault index -> count)."""
        with self._lock:
            return dict(self._used)


class OutageGate:
    """Whether the destination refuses this delivery: the first `times` deliveries, or those in the
    first `seconds` from the first delivery attempt, or every one (spec 7.3)."""

    def __init__(self, outages: list[DestinationOutage], *, now: Callable[[], float]) -> None:
        self.outages = list(outages)
        self._now = now
        self._refused: dict[int, int] = {}
        self._started: float | None = None
        self._lock = threading.Lock()

    def refuses(self) -> DestinationOutage | None:
        """The outage that refuses this delivery attempt (counted), or None."""
        with self._lock:
            now = self._now()
            if self._started is None:
                self._started = now
            for o in self.outages:
                n = self._refused.get(o.index, 0)
                if o.times is not None and n >= o.times:
                    continue
                if o.seconds is not None and now - self._started >= o.seconds:
                    continue
                self._refused[o.index] = n + 1
                return o
        return None


def times_out(latency_ms: float, timeout_s: float, handler_ms: float = 0.0) -> bool:
    """Whether injected latency (plus the handler's own time) runs past the function's Timeout."""
    return latency_ms + handler_ms >= timeout_s * 1000.0


def merge_failures(payload: bytes, identifiers: tuple[str, ...]) -> bytes:
    """A successful answer with the injected records added to its batchItemFailures (spec 2.2):
    the handler's own failures are kept, any other fields (a tumbling window's state) too."""
    import json

    try:
        body: Any = json.loads(payload or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    own = body.get("batchItemFailures")
    failures = list(own) if isinstance(own, list) else []
    present = {f.get("itemIdentifier") for f in failures if isinstance(f, dict)}
    failures += [{"itemIdentifier": i} for i in identifiers if i not in present]
    return json.dumps({**body, "batchItemFailures": failures}).encode()
