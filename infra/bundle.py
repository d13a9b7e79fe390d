"""Assemble Lambda code folders that ship a module shared with the harness.

The failure handler validates records with `harness/failures/checks.py`, the same rules the
harness's CLI, listing and replay use. Lambda code must stay standard library + boto3, and that
module is exactly that, so it is copied in (as `failure_record.py`) rather than installed.
Plain file copies at synth time: no Docker bundling, works offline, and the asset hash follows
the assembled contents, so an edit to the shared module redeploys the function.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDAS = ROOT / "lambdas"
SHARED = {"failure_handler": {"failure_record.py": ROOT / "harness" / "failures" / "checks.py"}}
# Never part of a function's code: left out of the copy here and of every asset (pipeline_stack.py).
ASSET_EXCLUDES = ["__pycache__", "*.pyc", ".pytest_cache"]
SKIP = shutil.ignore_patterns(*ASSET_EXCLUDES)


def assemble(function: str, dest: Path) -> Path:
    """Copy lambdas/<function> and its shared modules into `dest` (emptied first); return it."""
    source = LAMBDAS / function
    if not source.is_dir():
        raise FileNotFoundError(f"no Lambda code folder {source}")
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest, ignore=SKIP)
    for name, shared in SHARED.get(function, {}).items():
        if (source / name).exists():
            raise FileExistsError(f"{source / name} would be replaced by the shared {shared}; remove one of them")
        shutil.copy2(shared, dest / name)
    return dest
