"""The append-only journal: the spine that verdicts, audits, metrics and reports read.

Every step of the pipeline (injected, batch formed, invoked, result, split, checkpoint,
destination write, notification, replay, function log, deploy) is one entry. Entries are
never changed once written, so a report can always be traced back to what happened.

Memory is bounded when the journal has a file: a 100k-record load run writes ~300k entries
(~150 MB as dicts), which held the run's peak near 1 GB. The file already holds every entry,
so only the newest `memory_entries` stay in memory as dicts; older ones are read back from the
file when asked for. What stays in memory for every entry is small (its byte offset and its seq
in a per-kind index, ~16 bytes), so entries(kind) touches only that kind's entries and never
scans the others. Without a file (tests, the scenario suite) everything stays in memory.
"""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, overload

Entry = dict[str, Any]

# Newest entries kept as dicts when the journal has a file; ~500 bytes each, so ~10 MB.
DEFAULT_MEMORY_ENTRIES = 20_000


class JournalTimeout(TimeoutError):
    """A wait on the journal passed its deadline; the message says what was awaited."""


class JournalFileError(json.JSONDecodeError):
    """A journal file line is not a JSON entry; names the file and line. A JSONDecodeError (so a
    ValueError), so callers that caught the bare decode error still catch it."""

    def __init__(self, path: Path, lineno: int | None, problem: str, line: str = "", pos: int = 0) -> None:
        super().__init__(problem, line, pos)
        message = f"{path}: line {lineno}: {problem}" if lineno is not None else f"{path}: {problem}"
        self.args = (message,)
        self.path = path
        self.lineno = lineno
        self.message = message

    def __str__(self) -> str:
        return self.message


class Journal:
    """Thread-safe, append-only log of entries, mirrored as JSON Lines to `path` if given.

    With a path, at most about `memory_entries` recent entries are held as dicts; the rest are
    read back from the file on demand and come back equal to what was recorded.
    """

    def __init__(self, path: Path | str | None = None, *, memory_entries: int = DEFAULT_MEMORY_ENTRIES) -> None:
        if memory_entries < 1:
            raise ValueError(f"memory_entries must be at least 1, got {memory_entries}")
        self._lock = threading.Condition()  # an RLock inside: predicates may read the journal
        self._path = Path(path) if path is not None else None
        self._file = None
        self._count = 0
        self._base = 0  # seq of self._recent[0]; entries below it live in the file (or _pinned)
        self._recent: list[Entry] = []
        self._by_kind: dict[str, array] = {}
        self._offsets = array("q")  # byte offset of every entry's line, when there is a file
        self._pinned: dict[int, Entry] = {}  # evicted entries whose JSON would not read back equal
        self._memory_entries = memory_entries
        self._spill = False
        self._offset = 0
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # Line-buffered append: a crash loses at most the entry being written. JSON is
            # written ASCII-only (json's default), so a line's length is its size in bytes.
            self._file = self._path.open("a", encoding="utf-8", buffering=1, newline="\n")
            self._offset = os.fstat(self._file.fileno()).st_size
            self._spill = True

    @property
    def path(self) -> Path | None:
        return self._path

    def record(self, kind: str, **fields: Any) -> Entry:
        """Append one entry; `seq` orders entries even when wall-clock times tie."""
        with self._lock:
            entry: Entry = {"seq": self._count, "ts": time.time(), "kind": kind, **fields}
            try:
                if self._file is not None:
                    line = json.dumps(entry, default=str, sort_keys=False) + "\n"
                    self._file.write(line)
                    if self._spill:
                        self._offsets.append(self._offset)
                        self._offset += len(line)
            except BaseException:
                # The line may be half-written and offsets are unknown from here on: keep every
                # entry in memory (never lose one), and let the caller see the failure.
                self._spill = False
                raise
            finally:
                self._recent.append(entry)
                index = self._by_kind.get(kind)
                if index is None:
                    index = self._by_kind[kind] = array("q")
                index.append(self._count)
                self._count += 1
                self._lock.notify_all()
            if self._spill and len(self._recent) > self._memory_entries + max(1, self._memory_entries // 8):
                self._evict(len(self._recent) - self._memory_entries)
            return entry

    def _evict(self, n: int) -> None:
        """Drop the oldest `n` dicts (their lines are in the file); pin any that would not read back equal."""
        for entry in self._recent[:n]:
            if not _json_faithful(entry):
                self._pinned[entry["seq"]] = entry
        del self._recent[:n]
        self._base += n

    def entries(self, kind: str | None = None, **match: Any) -> list[Entry]:
        """A snapshot of entries, optionally of one kind and with matching field values."""
        with self._lock:
            base = self._base
            if kind is None:
                recent = list(self._recent)
                spilled: Iterable[int] = range(0, base)
            else:
                seqs = self._by_kind.get(kind)
                if seqs is None:
                    return []
                cut = bisect_left(seqs, base)
                recent = [self._recent[s - base] for s in seqs[cut:]]
                spilled = seqs[:cut]  # an array copy: record() may append to the original
            old = self._spill_reader(spilled) if base and (kind is None or len(spilled)) else None
        # Every entry here is already of `kind` (or any kind); only `match` is left to check.
        out = list(old) if old is not None else []
        out.extend(recent)
        if match:
            out = [e for e in out if all(e.get(k) == v for k, v in match.items())]
        return out

    def _spill_reader(self, seqs: Iterable[int]) -> Iterator[Entry]:
        """Entries `seqs` (all below _base, ascending) from the file. Safe to iterate without the
        lock: offsets and pins of evicted entries are only ever added, never changed."""
        return _read_back(self._path, seqs, self._offsets, self._pinned)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Entry]:
        """The entries so far, read lazily: a spilled journal is not loaded whole to be walked."""
        with self._lock:
            stop = self._count
        return self._range(0, stop)

    def __len__(self) -> int:
        with self._lock:
            return self._count

    def wait_for(
        self,
        predicate: Callable[[Sequence[Entry]], Any],
        *,
        timeout: float,
        what: str,
    ) -> Any:
        """Block until `predicate(entries)` is truthy; a deadline, never a fixed sleep.

        `entries` is a read-only sequence of every entry so far (iterate, index, slice, len); it
        is not a copy, so a wake costs what the predicate reads, not the journal's length.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                view = _EntriesView(self, self._count)
                result = predicate(view)
                if result:
                    return list(result) if isinstance(result, _EntriesView) else result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise JournalTimeout(f"timed out after {timeout:.1f}s waiting for {what}")
                self._lock.wait(min(remaining, 0.5))

    def _get(self, seq: int) -> Entry:
        with self._lock:
            if seq >= self._base:
                return self._recent[seq - self._base]
            reader = self._spill_reader([seq])
        return next(reader)

    def _range(self, start: int, stop: int) -> Iterator[Entry]:
        with self._lock:
            base = self._base
            recent = self._recent[max(start, base) - base:max(stop - base, 0)]
            old = self._spill_reader(range(start, min(stop, base))) if start < base else iter(())
        yield from old
        yield from recent

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
                # Entries recorded from now on are not in the file, so none may be evicted.
                self._spill = False


class _EntriesView(Sequence):
    """The first `stop` entries of a journal, read on demand (wait_for's predicate argument)."""

    def __init__(self, journal: Journal, stop: int) -> None:
        self._journal = journal
        self._stop = stop

    def __len__(self) -> int:
        return self._stop

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._stop)
            if step == 1:
                return list(self._journal._range(start, stop)) if start < stop else []
            return [self._journal._get(i) for i in range(start, stop, step)]
        if index < 0:
            index += self._stop
        if not 0 <= index < self._stop:
            raise IndexError("journal index out of range")
        return self._journal._get(index)

    def __iter__(self) -> Iterator[Entry]:
        return self._journal._range(0, self._stop)


def _read_back(path: Path, seqs: Iterable[int], offsets: array, pinned: dict[int, Entry]) -> Iterator[Entry]:
    """Read spilled entries at known offsets, checking each line is the entry expected there."""
    fh = None
    try:
        pos = -1
        for seq in seqs:
            kept = pinned.get(seq)
            if kept is not None:
                yield kept
                continue
            if fh is None:
                fh = path.open("rb")
            offset = offsets[seq]
            if pos != offset:
                fh.seek(offset)
            line = fh.readline()
            pos = offset + len(line)
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if not isinstance(entry, dict) or entry.get("seq") != seq:
                raise JournalFileError(path, None, f"entry {seq} is not at byte {offset} any more "
                                                f"(found {line[:80]!r}); the file was changed while its journal was open")
            yield entry
    finally:
        if fh is not None:
            fh.close()


def _json_faithful(value: Any) -> bool:
    """Would `value` read back from JSON equal to itself (so it may live only in the file)?"""
    t = type(value)
    if t is str or t is int or t is float or t is bool or value is None:
        return True
    if t is list:
        return all(_json_faithful(v) for v in value)
    if t is dict:
        return all(type(k) is str and _json_faithful(v) for k, v in value.items())
    return False  # tuples, bytes, paths, enums, subclasses: kept in memory as recorded


def read_journal(path: Path | str, *, strict: bool = False) -> list[Entry]:
    """Load a journal written to disk, for reports and post-mortems.

    A line that is not valid JSON raises JournalFileError naming the file and line. One
    exception: an unparseable *last* line with no newline is what a crash mid-write leaves
    (the journal writes whole lines, newline last). That entry was never completely written, so
    nothing more can be recovered from it; it is skipped with a RuntimeWarning naming the file,
    line and byte count, because refusing the whole file would lose the post-mortem of exactly
    the run that crashed. `strict=True` makes it an error too.
    """
    path = Path(path)
    out: list[Entry] = []
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw.decode("utf-8"))
            except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
                last = not raw.endswith(b"\n")  # only the last line can lack its newline
                if last and not strict:
                    warnings.warn(f"{path}: line {lineno}: skipped a truncated last entry ({len(raw)} bytes, no "
                                  f"newline; a crash mid-write?): {raw[:80]!r}", RuntimeWarning, stacklevel=2)
                    continue
                what = "truncated last entry (no newline; a crash mid-write?)" if last else "not valid JSON"
                raise JournalFileError(path, lineno, f"{what}: {exc}", raw.decode("utf-8", "replace"),
                                       getattr(exc, "pos", 0) or 0) from None
            out.append(entry)  # a valid non-object line is returned as is: callers check shape and say so
    return out
