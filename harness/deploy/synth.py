"""Synthesize `infra/` (the CDK app) into a CloudFormation template, cached by content.

The app is run with the current interpreter, the way the `cdk` CLI would run it (CDK_OUTDIR
and CDK_CONTEXT_JSON), so no CLI, network or AWS credentials are needed. A cold synth starts
node + jsii and takes seconds; the result is cached under
`<project_root>/.harness/synth/<hash>/` where the hash covers every file of `infra/` and
`lambdas/` (ignoring __pycache__, *.pyc and cdk.out), the merged context, the Python version
and the aws-cdk-lib version, so any edit that could change the template yields a new entry.
Entries are published by an atomic rename, so concurrent synths never see half a cache entry.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HASHED_DIRS = ("infra", "lambdas", "harness/failures/checks.py")  # checks.py ships inside a Lambda
IGNORED_DIRS = frozenset({"__pycache__", "cdk.out", ".pytest_cache", ".mypy_cache", "node_modules"})
IGNORED_SUFFIXES = (".pyc", ".pyo")
RESULT_FILE = "synth.json"
SYNTH_TIMEOUT_S = 600
STDERR_TAIL_LINES = 30


class SynthError(RuntimeError):
    """The CDK app could not be synthesized; the message carries the app's stderr tail."""


@dataclass(frozen=True)
class SynthResult:
    """A synthesized stack.

    `template` is the stack's CloudFormation template as a dict. Every Lambda function built
    from an asset carries `Metadata["aws:asset:path"]`: the staged code directory, relative
    to `assembly_dir` (e.g. `asset.0d90...`); `Metadata["aws:asset:property"]` is "Code".
    Its `Properties.Code` points at the CDK bootstrap bucket (`Fn::Sub cdk-hnb659fds-assets-...`),
    which only exists in a real bootstrapped account: a local applier should take the code
    from `assembly_dir / Metadata["aws:asset:path"]` instead. The template also carries the
    bootstrap's `Parameters.BootstrapVersion` (an SSM parameter type) and `Rules.CheckBootstrapVersion`,
    which only `cdk deploy` needs. The CDK's own S3 notifications handler
    (`Custom::S3BucketNotifications`) has inline code (`Code.ZipFile`), no asset.
    `cached` is True when the result came from the cache without running the app.
    """

    template: dict[str, Any]
    assembly_dir: Path
    stack_name: str
    cached: bool


def default_project_root() -> Path:
    """The checkout this module lives in (harness/deploy/synth.py -> project root)."""
    return Path(__file__).resolve().parents[2]


def _iter_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        files.extend(Path(dirpath) / f for f in sorted(filenames) if not f.endswith(IGNORED_SUFFIXES))
    return files


def _cdk_json_context(project_root: Path) -> dict[str, Any]:
    """Context from infra/cdk.json: the CLI would pass it, so a direct run must too (feature flags)."""
    path = project_root / "infra" / "cdk.json"
    if not path.is_file():
        return {}
    try:
        ctx = json.loads(path.read_text()).get("context", {})
    except ValueError as exc:
        raise SynthError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(ctx, dict):
        raise SynthError(f"{path}: 'context' must be an object")
    return ctx


def merged_context(context: dict[str, object] | None, project_root: Path) -> dict[str, Any]:
    """cdk.json context overridden by the caller's, as the CLI's `-c` would; checked to be JSON."""
    merged = _cdk_json_context(project_root)
    for key, value in (context or {}).items():
        if not isinstance(key, str):
            raise SynthError(f"context key {key!r} must be a string")
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise SynthError(f"context {key!r}: value {value!r} is not JSON-serializable ({exc})") from None
        merged[key] = value
    return merged


def source_hash(project_root: Path, context: dict[str, Any]) -> str:
    """Content hash of everything that determines the synthesized output."""
    h = hashlib.sha256()
    try:
        cdk_version = importlib.metadata.version("aws-cdk-lib")
    except importlib.metadata.PackageNotFoundError:
        cdk_version = "unknown"
    h.update(f"python={sys.version_info[:2]} aws-cdk-lib={cdk_version}\n".encode())
    h.update(json.dumps(context, sort_keys=True).encode() + b"\n")
    for top in HASHED_DIRS:
        base = project_root / top
        for path in _iter_files(base) if base.is_dir() else ([base] if base.is_file() else []):
            rel = path.relative_to(project_root).as_posix()
            h.update(f"{rel}\0{path.stat().st_size}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:32]


def _load(entry: Path, cached: bool) -> SynthResult:
    meta = json.loads((entry / RESULT_FILE).read_text())
    assembly = entry / "cdk.out"
    template = json.loads((assembly / meta["template_file"]).read_text())
    return SynthResult(template=template, assembly_dir=assembly, stack_name=meta["stack_name"], cached=cached)


def _stack_artifact(assembly: Path) -> tuple[str, str]:
    try:
        manifest = json.loads((assembly / "manifest.json").read_text())
    except OSError:  # exit 0 without an assembly: the app never called app.synth()
        raise SynthError(f"the CDK app wrote no cloud assembly ({assembly / 'manifest.json'} is missing); "
                         "does infra/app.py end with app.synth()?") from None
    except ValueError as exc:
        raise SynthError(f"{assembly / 'manifest.json'} is not JSON: {exc}") from None
    stacks = [
        (art_id, art) for art_id, art in manifest.get("artifacts", {}).items()
        if art.get("type") == "aws:cloudformation:stack"
    ]
    if len(stacks) != 1:
        names = ", ".join(a for a, _ in stacks) or "none"
        raise SynthError(f"expected exactly one stack in the cloud assembly {assembly}, found: {names}")
    art_id, art = stacks[0]
    props = art.get("properties", {})
    if not isinstance(props.get("templateFile"), str):
        raise SynthError(f"stack {art_id} in the cloud assembly {assembly} names no templateFile")
    return props.get("stackName", art_id), props["templateFile"]


def _tail(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join(lines[-STDERR_TAIL_LINES:]) or "(no stderr)"


def _run_app(project_root: Path, context: dict[str, Any], assembly: Path) -> None:
    app = project_root / "infra" / "app.py"
    if not app.is_file():
        raise SynthError(f"no CDK app at {app}")
    env = dict(os.environ)
    env["CDK_OUTDIR"] = str(assembly)
    env["CDK_CONTEXT_JSON"] = json.dumps(context)
    # jsii prints a large banner on every start for an end-of-life Node (20 here); it would bury
    # the app's own error in SynthError. The banner is still shown by a plain `cdk synth`.
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
    env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    try:
        proc = subprocess.run(
            [sys.executable, str(app)], cwd=app.parent, env=env, capture_output=True, text=True,
            timeout=SYNTH_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise SynthError(f"CDK app {app} did not finish within {SYNTH_TIMEOUT_S}s:\n{_tail(str(exc.stderr or ''))}") from None
    except OSError as exc:
        raise SynthError(f"could not run CDK app {app}: {exc}") from None
    if proc.returncode != 0:
        raise SynthError(f"CDK app {app} failed (exit {proc.returncode}):\n{_tail(proc.stderr)}")


def synthesize(
    context: dict[str, object] | None = None,
    *,
    project_root: Path | None = None,
    cache_dir: Path | None = None,
) -> SynthResult:
    """Synthesize the stack for `context`, reusing a cached assembly when nothing changed."""
    root = Path(project_root or default_project_root()).resolve()
    cache = Path(cache_dir) if cache_dir is not None else root / ".harness" / "synth"
    ctx = merged_context(context, root)
    entry = cache / source_hash(root, ctx)
    if (entry / RESULT_FILE).is_file():
        return _load(entry, cached=True)
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{entry.name}-", dir=cache))
    try:
        began = time.perf_counter()
        _run_app(root, ctx, work / "cdk.out")
        stack_name, template_file = _stack_artifact(work / "cdk.out")
        meta = {"stack_name": stack_name, "template_file": template_file, "context": ctx,
                "synth_seconds": round(time.perf_counter() - began, 3)}
        (work / RESULT_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True))
        try:
            os.rename(work, entry)
        except OSError:
            if not (entry / RESULT_FILE).is_file():  # not a lost race: a real error
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return _load(entry, cached=False)
