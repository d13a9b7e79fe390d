"""Synthesize the sample's CDK app (`<project_root>/infra`): a thin wrapper over the `app` stack source.

For the places where the stack is the sample's by definition (`shardproof deploy --backend aws`, which
runs `cdk deploy` in infra/, and LocalPipeline.deploy()); everything else takes a StackSource
(harness/deploy/sources/). It is `CdkAppSource` on `infra/`, with `lambdas/`
and `harness/failures/checks.py` (which ships inside a Lambda) watched, so an edit to any of them
yields a new cache entry under `<project_root>/.harness/synth/`. See cdk_app.py for how the app is
run and cached, synth_cache.py for publishing and pruning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.deploy.sources import cdk_app
from harness.deploy.sources.base import SourceSpec, SynthError, SynthResult
from harness.deploy.sources.cdk_app import CdkAppSource
from harness.state_folders import synth_cache_dir

APP_DIR = "infra"
WATCHED = ("lambdas", "harness/failures/checks.py")  # outside infra/, read by its synth
HASHED_DIRS = (APP_DIR, *WATCHED)  # everything the sample's synthesis reads, relative to the project root
DEFAULT_COMMAND = "python3 app.py"  # the sample app's command for a copy of infra/ that has no cdk.json
RESULT_FILE = "synth.json"
SYNTH_TIMEOUT_S = cdk_app.SYNTH_TIMEOUT_S
STDERR_TAIL_LINES = cdk_app.STDERR_TAIL_LINES


def default_project_root() -> Path:
    """The checkout this module lives in (harness/deploy/synth.py -> project root)."""
    return Path(__file__).resolve().parents[2]


def sample_spec(project_root: Path) -> SourceSpec:
    root = Path(project_root).resolve()
    return SourceSpec("app", root / APP_DIR, watch=tuple(root / w for w in WATCHED))


def sample_source(project_root: Path | None = None, cache_dir: Path | None = None) -> CdkAppSource:
    root = Path(project_root or default_project_root()).resolve()
    cache = Path(cache_dir) if cache_dir is not None else synth_cache_dir(root)
    return CdkAppSource(sample_spec(root), cache_dir=cache, default_command=DEFAULT_COMMAND)


def merged_context(context: dict[str, object] | None, project_root: Path) -> dict[str, Any]:
    """infra/cdk.json context overridden by the caller's, as the CLI's `-c` would; checked to be JSON."""
    return cdk_app.merged_context(Path(project_root) / APP_DIR, context)


def source_hash(project_root: Path, context: dict[str, Any]) -> str:
    """The cache key of the sample for an already merged `context`."""
    return sample_source(project_root).cache_key(context)


def synthesize(
    context: dict[str, object] | None = None,
    *,
    project_root: Path | None = None,
    cache_dir: Path | None = None,
) -> SynthResult:
    """Synthesize the sample for `context`, reusing a cached assembly when nothing changed."""
    return sample_source(project_root, cache_dir).synthesize(context)


__all__ = ["HASHED_DIRS", "SynthError", "SynthResult", "default_project_root", "merged_context", "sample_source",
           "source_hash", "synthesize"]
