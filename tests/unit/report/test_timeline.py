"""The timeline must let a person SEE the bisect tree: bars per invocation, halves under parents,
retries as repeated bars, markers for destination writes, notifications and replays."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from report_testkit import SHARD_A, SHARD_B

from harness.report.bisect_tree import OTHER_LANE, build_tree
from harness.report.timeline import render_timeline

SVG = "{http://www.w3.org/2000/svg}"


def _svg(entries: list[dict[str, Any]]) -> ET.Element:
    html = render_timeline(entries)
    # Well-formed XML is itself a check: no journal text escaped into markup.
    return ET.fromstring(html[: html.index("</svg>") + len("</svg>")])


def _bars(root: ET.Element) -> list[dict[str, str]]:
    return [r.attrib for r in root.iter(f"{SVG}rect") if "batch" in r.attrib.get("class", "").split()]


def test_demo_bisect_tree_shape(demo_result: dict[str, Any]) -> None:
    """Spec 2.1: 10 -> 5+5, 5 -> 3+2, 2 -> 1+1, the poison retried until exhausted (retryAttempts 2)."""
    tree = build_tree(demo_result["scenarios"][0]["journal"])
    assert [(b.count, b.node.depth, b.attempt, b.outcome) for b in tree.bars] == [
        (10, 0, 1, "function_error"), (5, 1, 1, "function_error"), (3, 2, 1, "success"), (2, 2, 1, "function_error"),
        (1, 3, 1, "success"), (1, 3, 1, "function_error"), (1, 3, 2, "function_error"), (1, 3, 3, "function_error"),
        (5, 1, 1, "success"),
    ]
    # Children point at the node that was split: the three retries share one node.
    poison = tree.bars[5].node
    assert tree.bars[6].node is poison and tree.bars[7].node is poison
    assert poison.parent is tree.bars[3].node and poison.parent.parent is tree.bars[1].node
    assert tree.bars[8].node.parent is tree.bars[0].node
    assert [m.kind for m in tree.markers] == ["destination_write", "notification"]
    assert len(tree.lanes) == 1 and tree.skipped == 0


def test_demo_svg_draws_bars_edges_and_markers(demo_result: dict[str, Any]) -> None:
    root = _svg(demo_result["scenarios"][0]["journal"])
    bars = _bars(root)
    assert [b["data-count"] for b in bars] == ["10", "5", "3", "2", "1", "1", "1", "1", "5"]
    assert [b["data-depth"] for b in bars] == ["0", "1", "2", "2", "3", "3", "3", "3", "1"]
    assert len([p for p in root.iter(f"{SVG}path") if p.get("class") == "split-edge"]) == 6
    kinds = [g.get("data-kind") for g in root.iter(f"{SVG}g") if "marker" in (g.get("class") or "").split()]
    assert kinds == ["destination_write", "notification"]
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "1 ↻2" in labels and "1 ↻3" in labels and "10" in labels


def test_time_flows_left_to_right_and_bars_do_not_overlap(demo_result: dict[str, Any]) -> None:
    bars = _bars(_svg(demo_result["scenarios"][0]["journal"]))
    xs = [float(b["x"]) for b in bars]
    assert xs == sorted(xs), "invocation order must be x order"
    by_row: dict[str, list[tuple[float, float]]] = {}
    for b in bars:
        by_row.setdefault(b["data-depth"], []).append((float(b["x"]), float(b["x"]) + float(b["width"])))
    for spans in by_row.values():
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start >= end, "bars on one row overlap"
    assert all(float(b["width"]) >= 30 for b in bars), "a bar too narrow to read its count"


def test_long_waits_are_compressed_and_labelled(demo_result: dict[str, Any]) -> None:
    """The demo waits 1 s and 2 s of backoff between retries: drawn as breaks, not 800 px of nothing."""
    root = _svg(demo_result["scenarios"][0]["journal"])
    breaks = [g for g in root.iter(f"{SVG}g") if g.get("class") == "time-break"]
    texts = [g.find(f"{SVG}text").text for g in breaks]
    assert "⋯ 1.0s" in texts and "⋯ 2.0s" in texts
    assert float(root.get("width")) < 1400


def test_two_shards_partial_checkpoint_service_error_and_replays(journal: list[dict[str, Any]]) -> None:
    tree = build_tree(journal)
    assert tree.lanes[:2] == [("11111111-2222-3333-4444-555555555555", SHARD_A),
                              ("11111111-2222-3333-4444-555555555555", SHARD_B)]
    assert tree.lanes[-1] == OTHER_LANE
    b_bars = [b for b in tree.bars if b.node.lane[1] == SHARD_B]
    assert [(b.count, b.node.depth, b.outcome) for b in b_bars] == [
        (6, 0, "partial_failure"), (3, 1, "service_error"), (3, 1, "success")]
    replays = [m for m in tree.markers if m.kind == "replay"]
    # A replay of a failure object lands on the shard its S3 key names (spec 4 key layout).
    assert [m.lane[1] for m in replays] == [SHARD_A, OTHER_LANE[1]]
    assert {m.kind for m in tree.markers if m.lane[1] == SHARD_B} == {"dropped", "filtered"}
    # The orphan result and the entry without a timestamp are counted, not silently lost.
    assert tree.skipped == 2


def test_svg_of_synthetic_journal_escapes_hostile_text(journal: list[dict[str, Any]]) -> None:
    html = render_timeline(journal)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html  # still shown, as text, in the bar's tooltip
    root = _svg(journal)
    lanes = [g.get("data-shard") for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]
    assert lanes == [SHARD_A, SHARD_B, OTHER_LANE[1]]
    assert len(_bars(root)) == 10  # shard A: 4, 2, 2, 1, 1 x3 ; shard B: 6, 3, 3
    assert "2 journal entries could not be placed" in html


def test_nothing_to_draw() -> None:
    assert "No ESM activity" in render_timeline([{"seq": 0, "ts": 1.0, "kind": "injected"}])
    assert "No ESM activity" in render_timeline([])


def test_non_integer_seq_still_renders() -> None:
    """A saved result's journal can carry a string `seq`; sorting it with ints once raised TypeError."""
    entries = [{"seq": "3", "ts": 1.0, "kind": "batch_formed", "shard_id": "s", "batch_id": "b",
                "sequence_numbers": ["1"]},
               {"seq": 2, "ts": 1.1, "kind": "invoked", "shard_id": "s", "batch_id": "b",
                "sequence_numbers": ["1"], "invocation_id": "i"}]
    tree = build_tree(entries)
    assert [(b.count, b.invocation_id) for b in tree.bars] == [(1, "i")]
    assert len(_bars(_svg(entries))) == 1


def test_out_of_range_or_non_finite_ts_still_renders() -> None:
    """A ts beyond time_t once raised OverflowError from the t0 label; NaN/inf are no timestamp at all."""
    far = {"seq": 1, "ts": 1e300, "kind": "dropped", "shard_id": "s", "sequence_numbers": ["1"]}
    html = render_timeline([far, {**far, "seq": 2, "ts": float("nan")}, {**far, "seq": 3, "ts": float("inf")}])
    assert "t0 = 1e+300 s since the epoch" in html
    assert "2 journal entries could not be placed" in html
    assert len(build_tree([far]).markers) == 1


def test_an_injected_fault_is_drawn_on_the_invocation_it_hit() -> None:
    """A `fault_injected` entry (journaled between an invocation and its result) outlines that bar
    and adds a marker in the same lane; an outage marker lands in the lane of the records it refused."""
    base = {"uuid": "u", "shard_id": "s", "batch_id": "b"}
    entries = [
        {"seq": 0, "ts": 1.0, "kind": "batch_formed", **base, "sequence_numbers": ["1", "2"]},
        {"seq": 1, "ts": 1.1, "kind": "invoked", **base, "sequence_numbers": ["1", "2"], "invocation_id": "i0"},
        {"seq": 2, "ts": 1.1, "kind": "fault_injected", "function": "f", "fault": "error", "fault_index": 0,
         "sequence_numbers": ["1", "2"], "selected": ["2"]},
        {"seq": 3, "ts": 1.2, "kind": "invoke_result", **base, "invocation_id": "i0", "outcome": "function_error"},
        {"seq": 4, "ts": 1.3, "kind": "invoked", **base, "sequence_numbers": ["1", "2"], "invocation_id": "i1",
         "attempt": 2},
        {"seq": 5, "ts": 1.4, "kind": "invoke_result", **base, "invocation_id": "i1", "outcome": "success"},
        {"seq": 6, "ts": 1.5, "kind": "fault_injected", "fault": "destination-unavailable", "fault_index": 1,
         "sequence_numbers": ["2"]},
    ]
    tree = build_tree(entries)
    assert [b.injected for b in tree.bars] == ["error (faults[0])", ""]
    assert [(m.kind, m.lane) for m in tree.markers] == [("fault_injected", ("u", "s"))] * 2
    bars = _bars(_svg(entries))
    assert [b.get("data-injected") for b in bars] == ["error (faults[0])", None]
