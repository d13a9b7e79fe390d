"""The scenario timeline as inline SVG: per shard a lane, batches as bars, the bisect tree visible.

Invocations come in bursts (a whole bisect can take 100 ms) separated by backoff waits of
seconds, so a linear time axis would squash the tree into a line. The x axis is therefore time
order with bursts stretched and idle gaps compressed: every step keeps its place in time,
long waits are drawn as a labelled break, and every bar is wide enough to read its count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from typing import Any

from harness.report.bisect_tree import MARKER_KINDS, OTHER_LANE, Bar, Marker, Tree, build_tree

PX_PER_S = 400.0      # inside a burst
MAX_GAP = 64.0        # an idle gap never takes more than this; longer ones get a break label
BAR_MIN = 40.0
BAR_GAP = 6.0
MARKER_W = 16.0
LABEL_W = 170.0
ROW_H = 32.0
BAR_H = 22.0
MARKER_ROW_H = 22.0
HEADER_H = 18.0       # the lane's title line
AXIS_H = 30.0
LANE_PAD = 8.0

OUTCOME_COLOURS = {
    "success": "#2e7d32",
    "function_error": "#c62828",
    "partial_failure": "#ef6c00",
    "invalid_response": "#6a1b9a",
    "service_error": "#757575",
}
NO_RESULT_COLOUR = "#9e9e9e"
MARKER_STYLE = {  # kind -> (shape, colour)
    "destination_write": ("diamond", "#ef6c00"),
    "destination_failure": ("diamond", "#b71c1c"),
    "dropped": ("cross", "#b71c1c"),
    "filtered": ("circle", "#9e9e9e"),
    "notification": ("circle", "#1565c0"),
    "notification_failed": ("circle", "#b71c1c"),
    "replay": ("triangle", "#6a1b9a"),
}


@dataclass
class _Placed:
    x: float
    w: float
    row: int  # row inside the lane: -1 markers, 0.. split depth


def _layout(tree: Tree) -> tuple[dict[int, _Placed], dict[int, _Placed], list[tuple[float, float]], list[tuple[float, float]], float]:
    """x positions of bars and markers, break positions (x, seconds) and time ticks (x, seconds)."""
    events: list[tuple[float, int, int, str, Any]] = []
    for i, b in enumerate(tree.bars):
        events.append((b.start, b.seq, 0, "start", i))
        events.append((b.end if b.end is not None else b.start, b.seq, 1, "end", i))
    for i, m in enumerate(tree.markers):
        events.append((m.ts, m.seq, 2, "marker", i))
    events.sort(key=lambda ev: (ev[0], ev[1], ev[2]))
    bar_pos: dict[int, _Placed] = {}
    marker_pos: dict[int, _Placed] = {}
    row_free: dict[tuple[Any, ...], float] = {}
    breaks: list[tuple[float, float]] = []
    ticks: list[tuple[float, float]] = []
    cursor, prev = LABEL_W + 10.0, None
    t0 = tree.t0 or 0.0
    for ts, _seq, _order, what, i in events:
        adv = 0.0
        if prev is not None:
            dt = max(0.0, ts - prev)
            adv = min(MAX_GAP, dt * PX_PER_S)
            if dt * PX_PER_S > MAX_GAP:
                breaks.append((cursor + adv / 2, dt))
        prev = ts
        if what == "start":
            b = tree.bars[i]
            key = (b.node.lane, b.node.depth)
            x = max(cursor + adv, row_free.get(key, 0.0))
            bar_pos[i] = _Placed(x, BAR_MIN, b.node.depth)
            cursor = x
            if not ticks or x - ticks[-1][0] >= 70:
                ticks.append((x, ts - t0))
        elif what == "end":
            b, p = tree.bars[i], bar_pos[i]
            x = max(cursor + adv, p.x + BAR_MIN)
            p.w = x - p.x
            row_free[(b.node.lane, b.node.depth)] = x + BAR_GAP
            cursor = x
        else:
            m = tree.markers[i]
            key = (m.lane, -1)
            x = max(cursor + adv, row_free.get(key, 0.0))
            marker_pos[i] = _Placed(x, MARKER_W, -1)
            row_free[key] = x + MARKER_W + 2
            cursor = x
    return bar_pos, marker_pos, breaks, ticks, cursor


def _lane_label(lane: tuple[str, str]) -> tuple[str, str]:
    if lane == OTHER_LANE:
        return ("(none)", "replays and other events without a shard")
    uuid, shard = lane
    short = shard if len(shard) <= 48 else "…" + shard[-47:]
    return (short, f"ESM {uuid[:8]}" if uuid else "")


def _marker_svg(kind: str, x: float, y: float, title: str) -> str:
    shape, colour = MARKER_STYLE.get(kind, ("circle", "#424242"))
    cx, cy, r = x + MARKER_W / 2, y + MARKER_ROW_H / 2, 6.0
    if shape == "diamond":
        body = (f'<polygon points="{cx:.1f},{cy - r - 1:.1f} {cx + r + 1:.1f},{cy:.1f} {cx:.1f},{cy + r + 1:.1f} '
                f'{cx - r - 1:.1f},{cy:.1f}" fill="{colour}"/>')
    elif shape == "cross":
        body = (f'<path d="M{cx - r:.1f},{cy - r:.1f}L{cx + r:.1f},{cy + r:.1f}M{cx + r:.1f},{cy - r:.1f}'
                f'L{cx - r:.1f},{cy + r:.1f}" stroke="{colour}" stroke-width="3"/>')
    elif shape == "triangle":
        body = (f'<polygon points="{cx:.1f},{cy - r:.1f} {cx + r:.1f},{cy + r:.1f} {cx - r:.1f},{cy + r:.1f}" '
                f'fill="{colour}"/>')
    else:
        body = f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{colour}"/>'
    return (f'<g class="marker marker-{escape(kind)}" data-kind="{escape(kind)}"><title>{escape(title)}</title>'
            f'{body}</g>')


def _bar_title(b: Bar, t0: float) -> str:
    seqs = b.node.seqs
    lines = [f"{b.count} record(s), attempt {b.attempt}, split depth {b.node.depth}",
             f"outcome: {b.outcome}",
             f"t = +{b.start - t0:.3f}s" + (f", took {1000 * (b.end - b.start):.1f} ms" if b.end is not None else ""),
             f"invocation: {b.invocation_id}"]
    if seqs:
        lines.append(f"sequence numbers: {seqs[0]}" + (f" .. {seqs[-1]}" if len(seqs) > 1 else ""))
    if b.detail:
        lines.append(b.detail)
    if b.node.split_reason:
        lines.append(f"then split ({b.node.split_reason})")
    return "\n".join(lines)


def render_timeline(entries: list[dict[str, Any]], *, svg_id: str = "timeline") -> str:
    """An inline <svg> of one scenario's journal; a short note instead when there is nothing to draw."""
    tree = build_tree(entries)
    if not tree.bars and not tree.markers:
        return '<p class="no-timeline">No ESM activity in this scenario\'s journal.</p>'
    bar_pos, marker_pos, breaks, ticks, right = _layout(tree)
    t0 = tree.t0 or 0.0
    # Lane geometry: a marker row, then one row per split depth.
    lane_top: dict[tuple[str, str], float] = {}
    y = 8.0
    depth_of = {lane: 0 for lane in tree.lanes}
    for b in tree.bars:
        depth_of[b.node.lane] = max(depth_of[b.node.lane], b.node.depth)
    for lane in tree.lanes:
        lane_top[lane] = y
        y += HEADER_H + MARKER_ROW_H + (depth_of[lane] + 1) * ROW_H + LANE_PAD
    height = y + AXIS_H
    width = right + MAX_GAP + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" id="{escape(svg_id)}" '
           f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
           f'font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="ESM timeline">']

    def row_y(lane: tuple[str, str], row: int) -> float:
        return lane_top[lane] + HEADER_H + (0 if row < 0 else MARKER_ROW_H + row * ROW_H)

    for k, lane in enumerate(tree.lanes):
        top = lane_top[lane]
        h = HEADER_H + MARKER_ROW_H + (depth_of[lane] + 1) * ROW_H
        main, sub = _lane_label(lane)
        out.append(f'<g class="lane" data-shard="{escape(lane[1])}">'
                   f'<rect x="0" y="{top - 4:.1f}" width="{width:.0f}" height="{h + 4:.1f}" '
                   f'fill="{"#f5f7fa" if k % 2 == 0 else "#ffffff"}" stroke="#dde3ea"/>'
                   f'<text x="8" y="{top + 10:.1f}"><tspan font-weight="600">shard {escape(main)}</tspan>'
                   f'<tspan fill="#555" dx="10">{escape(sub)}</tspan></text>')
        for d in range(depth_of[lane] + 1):
            ry = row_y(lane, d) + ROW_H / 2 + 4
            label = "batch" if d == 0 else f"split depth {d}"
            out.append(f'<text x="{LABEL_W - 6:.0f}" y="{ry:.1f}" text-anchor="end" fill="#777">{label}</text>')
        out.append(f'<text x="{LABEL_W - 6:.0f}" y="{row_y(lane, -1) + 15:.1f}" text-anchor="end" '
                   f'fill="#777">events</text></g>')
    # Split edges first so bars paint over them: parent's last bar -> child's first bar.
    first_bar = {}
    last_bar = {}
    for i, b in enumerate(tree.bars):
        first_bar.setdefault(id(b.node), i)
        last_bar[id(b.node)] = i
    for n in tree.nodes:
        if n.parent is None or id(n) not in first_bar or id(n.parent) not in last_bar:
            continue
        p, c = bar_pos[last_bar[id(n.parent)]], bar_pos[first_bar[id(n)]]
        px = p.x + min(p.w, BAR_MIN) / 2
        py = row_y(n.parent.lane, n.parent.depth) + (ROW_H + BAR_H) / 2
        cy = row_y(n.lane, n.depth) + ROW_H / 2
        out.append(f'<path class="split-edge" d="M{px:.1f},{py:.1f}V{cy:.1f}H{c.x:.1f}" fill="none" '
                   f'stroke="#607d8b" stroke-width="1.5"/>')
    for i, b in enumerate(tree.bars):
        p = bar_pos[i]
        by = row_y(b.node.lane, b.node.depth) + (ROW_H - BAR_H) / 2
        colour = OUTCOME_COLOURS.get(b.outcome, NO_RESULT_COLOUR)
        label = str(b.count) + (f" ↻{b.attempt}" if b.attempt > 1 else "")
        out.append(f'<g class="bar"><title>{escape(_bar_title(b, t0))}</title>'
                   f'<rect class="batch outcome-{escape(b.outcome.replace(" ", "-"))}" x="{p.x:.1f}" y="{by:.1f}" '
                   f'width="{p.w:.1f}" height="{BAR_H:.0f}" rx="3" fill="{colour}" '
                   f'data-count="{b.count}" data-attempt="{b.attempt}" data-depth="{b.node.depth}" '
                   f'data-outcome="{escape(b.outcome)}" data-invocation="{escape(b.invocation_id)}"/>'
                   f'<text x="{p.x + p.w / 2:.1f}" y="{by + BAR_H / 2 + 4:.1f}" text-anchor="middle" fill="#fff" '
                   f'font-weight="600">{escape(label)}</text></g>')
    for i, m in enumerate(tree.markers):
        out.append(_marker_svg(m.kind, marker_pos[i].x, row_y(m.lane, -1), m.title))
    axis_y = height - AXIS_H + 6
    out.append(f'<line x1="{LABEL_W:.0f}" y1="{axis_y:.1f}" x2="{width - 10:.0f}" y2="{axis_y:.1f}" stroke="#90a4ae"/>')
    for x, t in ticks:
        out.append(f'<line x1="{x:.1f}" y1="{axis_y:.1f}" x2="{x:.1f}" y2="{axis_y + 4:.1f}" stroke="#90a4ae"/>'
                   f'<text class="tick" x="{x:.1f}" y="{axis_y + 16:.1f}" fill="#555">+{t:.2f}s</text>')
    for x, dt in breaks:
        out.append(f'<g class="time-break"><line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{axis_y:.1f}" stroke="#b0bec5" '
                   f'stroke-dasharray="3 3"/><text x="{x:.1f}" y="{axis_y - 3:.1f}" text-anchor="middle" '
                   f'fill="#78909c" font-size="10">{escape(_gap(dt))}</text></g>')
    try:
        started = datetime.fromtimestamp(t0, tz=timezone.utc).strftime("%H:%M:%S.%f")[:-3] + " UTC"
    except (OverflowError, ValueError, OSError):  # a saved result's ts can be any number
        started = f"{t0:g} s since the epoch"
    out.append(f'<text x="8" y="{axis_y + 16:.1f}" fill="#555">t0 = {escape(started)}</text>')
    out.append("</svg>")
    if tree.skipped:
        out.append(f'<p class="note">{tree.skipped} journal entr{"y" if tree.skipped == 1 else "ies"} could not be '
                   'placed on the timeline (no timestamp, or no matching invocation); see the journal below.</p>')
    return "".join(out)


def _gap(dt: float) -> str:
    return f"⋯ {dt:.1f}s" if dt < 60 else f"⋯ {dt / 60:.1f} min"


def legend_html() -> str:
    """The key to the timeline's colours and shapes, as HTML (shared by all scenarios)."""
    items = [f'<span class="key"><svg width="22" height="14"><rect width="22" height="14" rx="3" fill="{c}"/></svg>'
             f'{escape(o.replace("_", " "))}</span>' for o, c in OUTCOME_COLOURS.items()]
    for kind, title in MARKER_KINDS.items():
        items.append(f'<span class="key"><svg width="{MARKER_W:.0f}" height="{MARKER_ROW_H:.0f}" '
                     f'viewBox="0 0 {MARKER_W:.0f} {MARKER_ROW_H:.0f}">'
                     f'{_marker_svg(kind, 0, 0, title)}</svg>{escape(title)}</span>')
    items.append('<span class="key">“10 ↻2” = 10 records, attempt 2 (a retry)</span>')
    items.append('<span class="key">lines = bisect: a failed batch and its two halves one row down</span>')
    return '<div class="legend">' + "".join(items) + "</div>"


__all__ = ["legend_html", "render_timeline"]
