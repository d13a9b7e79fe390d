"""The append-only journal: the spine that verdicts, audits, metrics and reports read.

Every step of the pipeline (injected, batch formed, invoked, result, split, checkpoint,
destination write, notification, replay, function log, deploy) is one entry. Entries are
never changed once written, so a report can always be traced back to what happened.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

Entry = dict[str, Any]


class JournalTimeout(TimeoutError):
    """A wait on the journal passed its deadline; the message says what was awaited."""


class Journal:
    """Thread-safe, append-only log of entries, mirrored as JSON Lines to `path` if given."""

    def __init__(self, path: Path | str | None = None) -> None:
        self._entries: list[Entry] = []
        self._lock = threading.Condition()
        self._path = Path(path) if path is not None else None
        self._file = None
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # Line-buffered append: a crash loses at most the entry being written.
            self._file = self._path.open("a", encoding="utf-8", buffering=1)

    @property
    def path(self) -> Path | None:
        return self._path

    def record(self, kind: str, **fields: Any) -> Entry:
        """Append one entry; `seq` orders entries even when wall-clock times tie."""
        with self._lock:
            entry: Entry = {"seq": len(self._entries), "ts": time.time(), "kind": kind, **fields}
            self._entries.append(entry)
            if self._file is not None:
                self._file.write(json.dumps(entry, default=str, sort_keys=False) + "\n")
            self._lock.notify_all()
            return entry

    def entries(self, kind: str | None = None, **match: Any) -> list[Entry]:
        """A snapshot of entries, optionally of one kind and with matching field values."""
        with self._lock:
            snapshot = list(self._entries)
        return [e for e in snapshot if _matches(e, kind, match)]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def wait_for(
        self,
        predicate: Callable[[list[Entry]], Any],
        *,
        timeout: float,
        what: str,
    ) -> Any:
        """Block until `predicate(entries)` is truthy; a deadline, never a fixed sleep."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                result = predicate(list(self._entries))
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise JournalTimeout(f"timed out after {timeout:.1f}s waiting for {what}")
                self._lock.wait(min(remaining, 0.5))

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _matches(entry: Entry, kind: str | None, match: dict[str, Any]) -> bool:
    if kind is not None and entry.get("kind") != kind:
        return False
    return all(entry.get(k) == v for k, v in match.items())


def read_journal(path: Path | str) -> list[Entry]:
    """Load a journal written to disk, for reports and post-mortems."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
