"""Rebuild, from journal entries alone, what the ESM did per shard: batches, bisect splits, retries.

The journal does not say which invocation a split came from, so the tree is recovered the way a
person reading the log would: a split belongs to the last invocation of its batch, its halves are
new nodes one level deeper, and an invocation belongs to the node holding its sequence numbers.
Retries are repeated invocations of one node.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

# Journal kinds drawn as markers, and what a person calls them.
MARKER_KINDS = {
    "destination_write": "failure record written",
    "destination_failure": "destination delivery failed",
    "dropped": "records dropped",
    "filtered": "records filtered out",
    "notification": "S3 notification delivered",
    "notification_failed": "S3 notification gave up",
    "replay": "record replayed",
}
# ESM S3 key layout (spec 4): aws/lambda/<ESM UUID>/<shard ID>/YYYY/MM/DD/...
_KEY_LANE = re.compile(r"aws/lambda/(?P<uuid>[^/#]+)/(?P<shard>[^/#]+)/")
OTHER_LANE = ("", "(no shard)")


@dataclass
class Node:
    """A set of records the ESM invoked together: a batch as formed, or one half of a split."""

    lane: tuple[str, str]
    batch_id: str
    seqs: tuple[str, ...]
    depth: int
    parent: Node | None = None
    bars: list[Bar] = field(default_factory=list)
    split_reason: str | None = None


@dataclass
class Bar:
    """One invocation of a node; several bars on one node are retries."""

    node: Node
    invocation_id: str
    start: float
    seq: int
    count: int
    attempt: int
    end: float | None = None
    outcome: str = "no result"
    detail: str = ""


@dataclass
class Marker:
    lane: tuple[str, str]
    kind: str
    ts: float
    seq: int
    title: str


@dataclass
class Tree:
    lanes: list[tuple[str, str]]
    nodes: list[Node]
    bars: list[Bar]
    markers: list[Marker]
    t0: float | None
    skipped: int = 0  # entries that looked like ESM steps but could not be placed


def _lane_of(entry: dict[str, Any]) -> tuple[str, str]:
    if entry.get("shard_id"):
        return (str(entry.get("uuid") or ""), str(entry["shard_id"]))
    for field_name in ("key", "record"):
        m = _KEY_LANE.search(str(entry.get(field_name) or ""))
        if m:
            return (m.group("uuid"), m.group("shard"))
    return OTHER_LANE


def _seqs(value: Any) -> tuple[str, ...]:
    return tuple(str(s) for s in value) if isinstance(value, (list, tuple)) else ()


def _seq(entry: dict[str, Any]) -> int:
    """The journal's order number; 0 for a missing or non-integer one (a saved result can hold anything)."""
    seq = entry.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else 0


def _ts(entry: dict[str, Any]) -> float | None:
    ts = entry.get("ts")
    if not isinstance(ts, (int, float)) or isinstance(ts, bool) or not math.isfinite(ts):
        return None  # NaN or infinity (Python's json reads them) would poison every x position
    return float(ts)


def _marker_title(entry: dict[str, Any]) -> str:
    kind = str(entry.get("kind"))
    parts = [MARKER_KINDS.get(kind, kind)]
    seqs = _seqs(entry.get("sequence_numbers"))
    if seqs:
        parts.append(f"{len(seqs)} record(s) {seqs[0]}" + (f"..{seqs[-1]}" if len(seqs) > 1 else ""))
    for name in ("condition", "reason", "destination_type", "key", "function", "result", "error", "attempt",
                 "target", "record", "outcome", "detail"):
        if entry.get(name) not in (None, ""):
            parts.append(f"{name}: {entry[name]}")
    return "\n".join(parts)


def build_tree(entries: list[dict[str, Any]]) -> Tree:
    """Batches, splits, retries and markers of one scenario's journal, in journal order."""
    ordered = sorted((e for e in entries if isinstance(e, dict)), key=lambda e: (_seq(e), _ts(e) or 0.0))
    nodes: dict[tuple[Any, ...], Node] = {}
    all_nodes: list[Node] = []
    last_invoked: dict[tuple[Any, ...], Node] = {}
    bars_by_id: dict[str, Bar] = {}
    bars: list[Bar] = []
    markers: list[Marker] = []
    lanes: list[tuple[str, str]] = []
    skipped = 0
    t0: float | None = None

    def node(lane: tuple[str, str], batch: str, seqs: tuple[str, ...], depth: int, parent: Node | None) -> Node:
        n = Node(lane, batch, seqs, depth, parent)
        nodes[(lane, batch, seqs)] = n
        all_nodes.append(n)
        return n

    def find(lane: tuple[str, str], batch: str, seqs: tuple[str, ...]) -> Node | None:
        if (lane, batch, seqs) in nodes:
            return nodes[(lane, batch, seqs)]
        # Expired or trimmed prefixes shrink a node without a split: its records are a suffix.
        for n in reversed(all_nodes):
            if n.lane == lane and n.batch_id == batch and len(seqs) < len(n.seqs) and n.seqs[-len(seqs):] == seqs:
                nodes[(lane, batch, seqs)] = n
                return n
        return None

    for e in ordered:
        kind, ts = e.get("kind"), _ts(e)
        if kind not in MARKER_KINDS and kind not in ("batch_formed", "split", "invoked", "invoke_result"):
            continue
        if ts is None:
            skipped += 1
            continue
        lane = _lane_of(e)
        if lane not in lanes:
            lanes.append(lane)
        t0 = ts if t0 is None else min(t0, ts)
        batch = str(e.get("batch_id") or "")
        seq_no = _seq(e)
        if kind == "batch_formed":
            node(lane, batch, _seqs(e.get("sequence_numbers")), 0, None)
        elif kind == "split":
            parent = last_invoked.get((lane, batch))
            first, second = _seqs(e.get("first")), _seqs(e.get("second"))
            if parent is None:
                parent = find(lane, batch, first + second)
            if parent is None:
                skipped += 1
                continue
            parent.split_reason = str(e.get("reason") or "")
            for half in (first, second):
                if half:
                    node(lane, batch, half, parent.depth + 1, parent)
        elif kind == "invoked":
            seqs = _seqs(e.get("sequence_numbers"))
            n = find(lane, batch, seqs) or node(lane, batch, seqs, 0, None)
            last_invoked[(lane, batch)] = n
            attempt = e.get("attempt") if isinstance(e.get("attempt"), int) else 1
            bar = Bar(n, str(e.get("invocation_id") or ""), ts, seq_no, len(seqs), attempt)
            n.bars.append(bar)
            bars.append(bar)
            if bar.invocation_id:
                bars_by_id[bar.invocation_id] = bar
        elif kind == "invoke_result":
            bar = bars_by_id.get(str(e.get("invocation_id") or ""))
            if bar is None:
                skipped += 1
                continue
            bar.end = ts
            bar.outcome = str(e.get("outcome") or "unknown")
            bar.detail = "; ".join(f"{k}: {e[k]}" for k in ("function_error", "error", "reason", "request_id")
                                   if e.get(k) not in (None, ""))
        else:
            markers.append(Marker(lane, str(kind), ts, seq_no, _marker_title(e)))
    # Lanes in order of first appearance; events without a shard go last.
    if OTHER_LANE in lanes:
        lanes.remove(OTHER_LANE)
        lanes.append(OTHER_LANE)
    return Tree(lanes, all_nodes, bars, markers, t0, skipped)


__all__ = ["Bar", "MARKER_KINDS", "Marker", "Node", "OTHER_LANE", "Tree", "build_tree"]
