"""The synth cache: one folder per content hash, published atomically, pruned least-recently-used.

`<cache>/<key>/` holds what the app wrote (`cdk.out/`) and `synth.json` (what the synth recorded).
An entry is built in `<cache>/.tmp-<key>-*/` and renamed into place, so a concurrent reader sees a
whole entry or none; two processes that build the same key both succeed and one rename wins.
Every hit touches `<key>/last-used`; after each publish the least recently used entries beyond
`max_entries` are removed (renamed aside first, so none is ever seen half deleted), never the
entry just published. Before pruning existed a cache grew without bound: every distinct scenario
context is an entry of a few MB.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from harness.deploy.sources.base import SourceError

RESULT_FILE = "synth.json"
USED_MARK = "last-used"
TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
DEFAULT_MAX_ENTRIES = 20
MAX_ENTRIES_ENV = "HARNESS_SYNTH_CACHE_ENTRIES"
STALE_WORK_S = 2 * 3600  # a .tmp- folder this old belongs to a synth that died; a live one times out first


def max_entries_from_env() -> int:
    raw = os.environ.get(MAX_ENTRIES_ENV)
    if raw is None or raw.strip() == "":
        return DEFAULT_MAX_ENTRIES
    try:
        value = int(raw)
    except ValueError:
        raise SourceError(f"{MAX_ENTRIES_ENV}={raw!r}: must be a whole number of cache entries (at least 1)") from None
    if value < 1:
        raise SourceError(f"{MAX_ENTRIES_ENV}={raw!r}: must be at least 1")
    return value


class SynthCache:
    def __init__(self, root: Path, *, max_entries: int | None = None) -> None:
        self.root = Path(root).absolute()  # the app runs in its own folder: CDK_OUTDIR must not be relative
        self.max_entries = max_entries_from_env() if max_entries is None else int(max_entries)
        if self.max_entries < 1:
            raise SourceError(f"the synth cache must keep at least 1 entry, not {self.max_entries}")

    def lookup(self, key: str) -> Path | None:
        """The published entry for `key`, marked as used; None when there is none."""
        entry = self.root / key
        if not (entry / RESULT_FILE).is_file():
            return None
        self.mark_used(entry)
        return entry

    def publish(self, key: str, build: Callable[[Path], dict[str, Any]]) -> Path:
        """Build an entry in a private folder (`build` fills it and returns what synth.json records),
        rename it into place, then prune. Nothing is left behind when `build` raises."""
        entry = self.root / key
        self.root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{key}-", dir=self.root))
        try:
            meta = build(work)
            (work / RESULT_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True, default=str))
            try:
                os.rename(work, entry)
            except OSError:
                if not (entry / RESULT_FILE).is_file():  # not a lost race: a real error
                    raise
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
        self.mark_used(entry)
        self.prune(keep=entry)
        return entry

    @staticmethod
    def mark_used(entry: Path) -> None:
        # An explicit nanosecond stamp: the filesystem's own clock may tick only every few ms.
        mark = entry / USED_MARK
        try:
            mark.touch()
            now = time.time_ns()
            os.utime(mark, ns=(now, now))
        except OSError:
            pass  # a read-only cache still serves hits; it just cannot be pruned by use

    def entries(self) -> list[Path]:
        """Published entries, most recently used first."""
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.iterdir()
                 if p.is_dir() and not p.name.startswith(".") and (p / RESULT_FILE).is_file()]
        return sorted(found, key=lambda p: (_used_ns(p), p.name), reverse=True)

    def prune(self, *, keep: Path | None = None) -> list[Path]:
        """Remove the least recently used entries beyond max_entries (never `keep`); returns them."""
        ranked = self.entries()
        if keep is not None:
            ranked = [keep] + [p for p in ranked if p != keep]
        removed = ranked[self.max_entries:]
        for entry in removed:
            self._remove(entry)
        self._remove_stale_work()
        return removed

    def _remove(self, entry: Path) -> None:
        trash = self.root / f"{TRASH_PREFIX}{entry.name}-{os.getpid()}-{time.time_ns()}"
        try:
            os.rename(entry, trash)
        except OSError:
            return  # another process removed or is removing it
        shutil.rmtree(trash, ignore_errors=True)

    def _remove_stale_work(self) -> None:
        cutoff = time.time() - STALE_WORK_S
        for path in self.root.iterdir():
            if path.name.startswith((TMP_PREFIX, TRASH_PREFIX)) and path.is_dir():
                try:
                    if path.stat().st_mtime < cutoff:
                        shutil.rmtree(path, ignore_errors=True)
                except OSError:
                    pass


def _used_ns(entry: Path) -> int:
    for name in (USED_MARK, RESULT_FILE):
        try:
            return (entry / name).stat().st_mtime_ns
        except OSError:
            continue
    return 0
