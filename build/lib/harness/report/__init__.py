"""Scenario reports: one self-contained HTML file and a Markdown summary from a runner result.

The runner (harness.scenarios) produces the result dict; this package only validates, redacts
and renders it, so a report can be re-rendered from a saved result JSON without a backend.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from harness.report.html import render_html
from harness.report.markdown import render_markdown
from harness.report.model import ReportInputError, validate
from harness.report.redact import redact

HTML_NAME = "report.html"
MARKDOWN_NAME = "report.md"


def prepare(result: dict[str, Any]) -> dict[str, Any]:
    """Validated and redacted copy of `result`: the only form renderers ever see."""
    return redact(validate(result))


def write_report(result: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write report.html and report.md into `out_dir`; returns {"html": path, "markdown": path}.

    Both are rendered before either is written, and each is written to a temporary file then
    renamed, so a bad result never leaves a half-written or stale-mixed report behind.
    """
    clean = prepare(result)
    out_dir = Path(out_dir)
    texts = {"html": (HTML_NAME, render_html(clean)), "markdown": (MARKDOWN_NAME, render_markdown(clean, HTML_NAME))}
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for kind, (name, text) in texts.items():
        target = out_dir / name
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be shared
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        paths[kind] = target
    return paths


__all__ = ["HTML_NAME", "MARKDOWN_NAME", "ReportInputError", "prepare", "write_report"]
