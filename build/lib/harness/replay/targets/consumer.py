"""Target (a): invoke the consumer function with the original event shape, `{"Records":[...]}`.

A chunk is a run of consecutive records from one failure object, so when objects do not
interleave the consumer receives exactly the batch that failed (minus records already replayed
or filtered out). The response is judged like the ESM does (spec 2.2, 2.3): a function error
fails the whole chunk; a `batchItemFailures` list fails the records from the lowest reported
sequence number on and keeps those before it.
"""

from __future__ import annotations

import json
from typing import Any

from harness.invoke import InvokeServiceError, Invoker
from harness.replay.plan import PlannedRecord
from harness.replay.targets.base import Outcome, Verdict


class ConsumerTarget:
    """Replays records by invoking `function_name` through any Invoker (local runtime or Lambda API)."""

    max_chunk = 10000
    distinct_keys = False
    same_object = True

    def __init__(self, invoker: Invoker, function_name: str) -> None:
        if not function_name:
            raise ValueError("function_name: the consumer function to invoke is required")
        self.invoker = invoker
        self.function_name = function_name
        self.target_id = f"consumer/{function_name}"

    def prepare(self) -> None:
        return None

    def check(self, record: PlannedRecord) -> Verdict | None:
        return None

    def describe(self, record: PlannedRecord) -> str:
        return f"Invoke {self.function_name} with {record.event_name} {record.item_key} (seq {record.seq})"

    def send(self, chunk: list[PlannedRecord]) -> list[Outcome]:
        payload = json.dumps({"Records": [p.record for p in chunk]}).encode()
        try:
            result = self.invoker.invoke(self.function_name, payload)
        except InvokeServiceError as exc:
            return [Outcome(p, False, f"function {self.function_name} not reached: {exc}") for p in chunk]
        if result.function_error:
            text = result.payload[:300].decode("utf-8", "replace")
            return [Outcome(p, False, f"function {self.function_name} error ({result.function_error}): {text}")
                    for p in chunk]
        failed_from = _first_failed_index(result.payload, chunk)
        if failed_from is None:
            return [Outcome(p, True, f"invoked {self.function_name} (request {result.request_id})") for p in chunk]
        if failed_from < 0:
            return [Outcome(p, False, f"function {self.function_name} returned a malformed batchItemFailures "
                                      "response: whole batch failed (spec 2.3)") for p in chunk]
        return [Outcome(p, i < failed_from,
                        f"invoked {self.function_name}" if i < failed_from
                        else f"function {self.function_name} reported it in batchItemFailures (spec 2.2)")
                for i, p in enumerate(chunk)]


def _first_failed_index(body: bytes, chunk: list[PlannedRecord]) -> int | None:
    """None: all succeeded; -1: malformed response (all failed); else the first failed index."""
    try:
        response: Any = json.loads(body) if body.strip() else None
    except ValueError:
        return None  # a non-JSON return value is not a partial batch response: success
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if not failures:
        return None
    if not isinstance(failures, list):
        return -1
    positions = {p.seq: i for i, p in enumerate(chunk)}
    lowest: int | None = None
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or ident not in positions:
            return -1
        lowest = positions[ident] if lowest is None else min(lowest, positions[ident])
    return lowest


__all__ = ["ConsumerTarget"]
