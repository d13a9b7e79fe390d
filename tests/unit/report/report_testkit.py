"""Test data for the report tests: the real demo run, and a hand-built multi-scenario result.

(Imported by conftest.py and the tests; a unique module name because of --import-mode=importlib.)

The demo fixture (fixtures/demo_result.json) came from a real `shardproof demo` journal via
harness.report.from_journal.result_from_demo_dir; the synthetic journal adds what the demo does
not show (two shards, a partial-batch checkpoint, a service error, replays, a dropped batch).
"""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE = '<img src=x onerror="document.body.setAttribute(\'data-pwned\',\'1\')"><script>alert(1)</script>|x'
UUID = "11111111-2222-3333-4444-555555555555"
SHARD_A = "shardId-00000001-aaaa"
SHARD_B = "shardId-00000002-bbbb"


def load_demo() -> dict[str, Any]:
    return json.loads((FIXTURES / "demo_result.json").read_text(encoding="utf-8"))


class J:
    """A tiny journal writer with the engine's field names, so tests read like the engine's log."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.t = 1_800_000_000.0
        self.n = 0

    def add(self, kind: str, dt: float = 0.01, **fields: Any) -> dict[str, Any]:
        self.t += dt
        entry = {"seq": len(self.entries), "ts": self.t, "kind": kind, **fields}
        self.entries.append(entry)
        return entry

    def invoke(self, shard: str, batch: str, seqs: list[str], outcome: str, attempt: int = 1, **extra: Any) -> None:
        inv = f"{batch}/{self.n}"
        self.n += 1
        self.add("invoked", uuid=UUID, shard_id=shard, batch_id=batch, invocation_id=inv, sequence_numbers=seqs,
                 attempt=attempt, retries=attempt - 1, function_name="consumer")
        committed = seqs if outcome == "success" else []
        self.add("invoke_result", dt=0.02, uuid=UUID, shard_id=shard, batch_id=batch, invocation_id=inv,
                 sequence_numbers=seqs, attempt=attempt, outcome=outcome, committed_sequence_numbers=committed, **extra)


def synthetic_journal() -> list[dict[str, Any]]:
    """Shard A: batch of 4 bisected to isolate seq a3 (retried twice, then written to S3),
    notification and a replay. Shard B: partial-batch checkpoint, a service error, a dropped batch."""
    j = J()
    a = [f"a{i}" for i in range(4)]
    j.add("injected", pk="order#1", item={"pk": "order#1"})
    j.add("batch_formed", uuid=UUID, shard_id=SHARD_A, batch_id=f"{SHARD_A}#1", sequence_numbers=a)
    j.invoke(SHARD_A, f"{SHARD_A}#1", a, "function_error", function_error="Unhandled")
    j.add("split", uuid=UUID, shard_id=SHARD_A, batch_id=f"{SHARD_A}#1", reason="function_error", first=a[:2], second=a[2:])
    j.invoke(SHARD_A, f"{SHARD_A}#1", a[:2], "success")
    j.invoke(SHARD_A, f"{SHARD_A}#1", a[2:], "function_error")
    j.add("split", uuid=UUID, shard_id=SHARD_A, batch_id=f"{SHARD_A}#1", reason="function_error", first=a[2:3], second=a[3:])
    j.invoke(SHARD_A, f"{SHARD_A}#1", a[2:3], "success")
    for attempt in (1, 2, 3):
        j.invoke(SHARD_A, f"{SHARD_A}#1", a[3:], "function_error", attempt=attempt, function_error=HOSTILE)
    key = f"aws/lambda/{UUID}/{SHARD_A}/2027/01/15/2027-01-15T08.00.00-abc"
    j.add("destination_write", uuid=UUID, shard_id=SHARD_A, condition="RetryAttemptsExhausted", sequence_numbers=a[3:],
          destination="arn:aws:s3:::bucket", destination_type="s3", key=key)
    j.add("notification", dt=0.2, bucket="bucket", key=key, function="handler", attempt=1, result="success")
    j.add("replay", dt=1.5, target="table:source", record=f"{key}#a3", outcome="replayed", detail="ok", run="r1")
    j.add("replay", target="table:source", record="somewhere-else#9", outcome="failed", detail=HOSTILE, run="r1")
    b = [f"b{i}" for i in range(6)]
    j.add("batch_formed", uuid=UUID, shard_id=SHARD_B, batch_id=f"{SHARD_B}#1", sequence_numbers=b)
    j.invoke(SHARD_B, f"{SHARD_B}#1", b, "partial_failure")
    j.add("split", uuid=UUID, shard_id=SHARD_B, batch_id=f"{SHARD_B}#1", reason="partial_checkpoint", first=b[3:], second=[])
    j.invoke(SHARD_B, f"{SHARD_B}#1", b[3:], "service_error")
    j.invoke(SHARD_B, f"{SHARD_B}#1", b[3:], "success")
    j.add("dropped", uuid=UUID, shard_id=SHARD_B, condition=None, sequence_numbers=["b9"], reason="trimmed by stream retention")
    j.add("filtered", uuid=UUID, shard_id=SHARD_B, sequence_numbers=["b10"])
    j.add("invoke_result", uuid=UUID, shard_id=SHARD_B, invocation_id="no-such-invocation", outcome="success")
    j.add("checkpoint", uuid=UUID, shard_id=SHARD_B, sequence_number="b5", reason="success")
    bad = j.add("split", uuid=UUID, shard_id=SHARD_B, batch_id="x", first=["q"], second=[])
    bad.pop("ts")
    return j.entries


def rich_result() -> dict[str, Any]:
    """Three scenarios (pass, fail with lost records, error) and hostile text in every free field."""
    demo = load_demo()
    ok = demo["scenarios"][0]
    failing = copy.deepcopy(ok)
    failing.update(name="bisect-two-shards", title=f"Two shards {HOSTILE}", verdict="fail", wall_s=2.5,
                   description=HOSTILE, spec_sections=["2.1", "2.2"], journal=synthetic_journal())
    failing["checks"] = [
        {"name": "poison isolated", "passed": True, "expected": 1, "observed": 1, "spec": "2.1"},
        {"name": f"failure records {HOSTILE}", "passed": False, "expected": ["a3"], "observed": ["a3", HOSTILE],
         "spec": "3.2"},
    ]
    failing["conservation"] = {"injected": 10, "processed": 6, "filtered": 1, "in_failure_records": 1,
                               "dropped": 0, "lost": 2, "lost_records": ["b7", HOSTILE]}
    broken = {"name": "retention-trim", "title": "Retention trims old records", "description": "",
              "spec_sections": ["8"], "verdict": "error", "wall_s": 0.1, "checks": [], "expected": {},
              "observed": {}, "conservation": None, "journal": [], "error": f"RuntimeError: backend died {HOSTILE}"}
    demo["scenarios"] = [ok, failing, broken]
    demo["fidelity"].append({"rule": HOSTILE, "spec": "7.3", "backend": "embedded", "status": "diverges",
                             "reason": HOSTILE})
    return demo


class Dom(HTMLParser):
    """A flat view of an HTML document: every element with its attributes and its own text, in order."""

    VOID = {"meta", "br", "img", "input", "link", "hr", "col", "source", "rect", "path", "line", "circle", "polygon"}

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict[str, Any]] = []
        self._open: list[dict[str, Any]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = {"tag": tag, "attrs": {k: v or "" for k, v in attrs}, "text": ""}
        self.elements.append(el)
        if tag not in self.VOID:
            self._open.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append({"tag": tag, "attrs": {k: v or "" for k, v in attrs}, "text": ""})

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        for el in self._open:  # text counts for every enclosing element
            el["text"] += data

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[dict[str, Any]]:
        out = []
        for el in self.elements:
            if tag is not None and el["tag"] != tag:
                continue
            if cls is not None and cls not in el["attrs"].get("class", "").split():
                continue
            if any(el["attrs"].get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            out.append(el)
        return out
