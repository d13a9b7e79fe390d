"""A static look at a consumer's code: does it answer with partial batch responses?

Good faith, not analysis: a file of the function's own code (not an installed dependency)
that mentions `batchItemFailures` or Powertools' partial-batch API is taken to return them.
Dependencies are skipped so that a bundled Powertools, which names its own API, does not count.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

MARKERS = ("batchItemFailures", "process_partial_response", "BatchProcessor", "processPartialResponse")
CODE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", ".venv", "venv", "site-packages", ".git", "cdk.out",
                          ".mypy_cache", ".pytest_cache"})
MAX_FILE_BYTES = 2_000_000
MAX_FILES = 5_000
_MARKER_RE = re.compile("|".join(re.escape(m) for m in MARKERS))


@dataclass(frozen=True)
class Mention:
    path: str  # relative to the code folder ("<inline>" for Code.ZipFile)
    line: int
    marker: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.marker})"


def partial_batch_mentions(folder: Path | str) -> list[Mention]:
    """Where the function's own code in `folder` mentions a partial-batch marker, in path order."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"code folder {root} does not exist or is not a folder")
    found: list[Mention] = []
    scanned = 0
    for dirpath, dirnames, filenames in os.walk(root):
        installed = _installed_packages(Path(dirpath), dirnames)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.endswith((".dist-info", ".egg-info"))
                             and _normal(d) not in installed)
        for name in sorted(filenames):
            if not name.endswith(CODE_SUFFIXES) or _normal(name.rsplit(".", 1)[0]) in installed:
                continue
            path = Path(dirpath) / name
            scanned += 1
            if scanned > MAX_FILES:
                return found
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            found.extend(mentions_in(text, str(path.relative_to(root))))
    return found


def mentions_in(text: str, path: str) -> list[Mention]:
    """The first marker on each line of `text` that has one."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        m = _MARKER_RE.search(line)
        if m:
            out.append(Mention(path, number, m.group(0)))
    return out


def _installed_packages(folder: Path, dirnames: list[str]) -> set[str]:
    """Top-level names of the packages pip installed into this folder (a bundled Lambda's deps):
    each `*.dist-info`'s distribution name and the names its top_level.txt lists."""
    names: set[str] = set()
    for d in dirnames:
        if d.endswith((".dist-info", ".egg-info")):
            names.add(_normal(d.split("-", 1)[0].rsplit(".", 1)[0]))
            try:
                listed = (folder / d / "top_level.txt").read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            names.update(_normal(line.strip()) for line in listed.splitlines() if line.strip())
    return names


def _normal(name: str) -> str:
    return name.lower().replace("-", "_")
