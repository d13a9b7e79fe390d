"""`app`: a CDK app in any language, synthesized the way the CDK CLI does it, without the CLI.

The CLI reads the app folder's `cdk.json`, runs its `app` command through the shell in that
folder with `CDK_OUTDIR` (where to write the cloud assembly) and `CDK_CONTEXT_JSON` (the context),
and reads the assembly back. So does this module; no CLI, network or AWS credentials are needed,
and a TypeScript app (`npx tsx bin/app.ts`) runs as well as a Python one (`python3 app.py`).

A cold synth starts node + jsii and takes seconds, so the assembly is cached by content (see
synth_cache.py): the key covers what the app reads: the files `cdk.json`'s `watch.include` names
minus its `watch.exclude` (the CDK CLI's own statement of what the app reads) when it has them,
otherwise every file of the app folder except the harness's and the tools' state (scenarios/ and
reports/ at the top, .harness, cdk.out, node_modules, .venv, .git, __pycache__, *.pyc); plus
cdk.json itself, the project's `watch` paths (code outside the folder that the app bundles, e.g.
`../lambdas`), the app command, the merged context, the Python version and the aws-cdk-lib
version, so any edit that could change the template yields a new entry and nothing else does
(with `app = "."`, a scenario run writing its report must not cost a synth).
Which stack of the assembly is used is chosen after the cache (assembly.select_stack), so
`--stack` never costs a synth.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.deploy.sources import assembly
from harness.deploy.sources.base import SourceSpec, SynthError, SynthResult, display_path
from harness.deploy.sources.synth_cache import SynthCache
from harness.state_folders import STATE_DIR, synth_cache_dir

KIND = "app"
CDK_JSON = "cdk.json"
CDK_CONTEXT_FILE = "cdk.context.json"  # the CLI's cached lookups (e.g. Vpc.fromLookup); lowest precedence
IGNORED_DIRS = frozenset({
    "node_modules", "cdk.out", ".venv", ".git", "__pycache__", STATE_DIR, ".pytest_cache", ".mypy_cache",
    "reports",  # where `shardproof demo` writes; a project with `app = "."` must not re-synth after every run
})
IGNORED_SUFFIXES = (".pyc", ".pyo")
# Top-level folders of the app folder that hold the harness's files, not the app's (app = ".").
IGNORED_TOP_DIRS = frozenset({"scenarios", "reports"})
# The CLI asks for asset metadata; without it a function's code folder cannot be found locally.
FORCED_CONTEXT: dict[str, Any] = {"aws:cdk:enable-asset-metadata": True}
SYNTH_TIMEOUT_S = 600
STDERR_TAIL_LINES = 30
# jsii prints a large banner on every start for an end-of-life Node (20 here); it would bury the
# app's own error in the SynthError. The banner is still shown by a plain `cdk synth`.
JSII_SILENCE = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20",
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
}


def app_environment(app_dir: Path, outdir: Path, context: Mapping[str, Any], *,
                    extra_path: Iterable[Path] = ()) -> dict[str, str]:
    """The environment an app command runs in: the one place to extend it (a Node toolchain will
    put esbuild on `extra_path` for NodejsFunction bundling).

    PATH starts with `extra_path`, then the folder of this interpreter (so `python3 app.py` runs
    with the harness's venv, which has aws-cdk-lib), then the app's `node_modules/.bin` (so
    `npx tsx bin/app.ts` or a bare `tsx` finds the app's own packages), then the caller's PATH.
    """
    env = dict(os.environ)
    path = [*map(str, extra_path), str(Path(sys.executable).parent), str(Path(app_dir) / "node_modules" / ".bin")]
    if env.get("PATH"):
        path.append(env["PATH"])
    env["PATH"] = os.pathsep.join(path)
    env["CDK_OUTDIR"] = str(outdir)
    env["CDK_CONTEXT_JSON"] = json.dumps(dict(context))
    for key, value in JSII_SILENCE.items():
        env.setdefault(key, value)
    return env


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SynthError(f"{display_path(path)}, line {exc.lineno}: not valid JSON: {exc.msg}") from None
    except OSError as exc:
        raise SynthError(f"cannot read {display_path(path)}: {exc}") from None
    if not isinstance(data, dict):
        raise SynthError(f"{display_path(path)} must hold a JSON object")
    return data


def read_cdk_json(app_dir: Path) -> dict[str, Any]:
    """The app folder's cdk.json; {} when there is none."""
    path = Path(app_dir) / CDK_JSON
    return _read_json_object(path) if path.is_file() else {}


def merged_context(app_dir: Path, context: Mapping[object, object] | None) -> dict[str, Any]:
    """cdk.context.json < cdk.json `context` < the caller's (the CLI's `-c`) < FORCED_CONTEXT; checked to be JSON."""
    merged: dict[str, Any] = {}
    lookups = Path(app_dir) / CDK_CONTEXT_FILE
    if lookups.is_file():
        merged.update(_read_json_object(lookups))
    project = read_cdk_json(app_dir).get("context", {})
    if not isinstance(project, dict):
        raise SynthError(f"{display_path(Path(app_dir) / CDK_JSON)}: 'context' must be an object")
    merged.update(project)
    for key, value in (context or {}).items():
        if not isinstance(key, str):
            raise SynthError(f"context key {key!r} must be a string")
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise SynthError(f"context {key!r}: value {value!r} is not JSON-serializable ({exc})") from None
        merged[key] = value
    merged.update(FORCED_CONTEXT)
    return merged


def iter_files(root: Path, *, top_level_ignored: frozenset[str] = frozenset()) -> list[Path]:
    """Every file under `root` that can change a synth, in a stable order."""
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        skip = IGNORED_DIRS | (top_level_ignored if Path(dirpath) == Path(root) else frozenset())
        dirnames[:] = sorted(d for d in dirnames if d not in skip)
        files.extend(Path(dirpath) / f for f in sorted(filenames) if not f.endswith(IGNORED_SUFFIXES))
    return files


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A cdk.json watch glob as a regex over a path relative to the app folder (`/`-separated):
    `**` any depth, `*` and `?` within one segment; a pattern also matches everything below a
    folder it matches (`node_modules` excludes the whole folder, as the CDK CLI does)."""
    out, i = [], 0
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        out.append("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out).rstrip("/") + "(?:/.*)?")


def watched_files(app_dir: Path) -> list[Path] | None:
    """The files cdk.json's `watch` says the app reads (include minus exclude), or None when it has no
    `watch.include`. SynthError naming the key when it is not a list of strings."""
    watch = read_cdk_json(app_dir).get("watch")
    if not isinstance(watch, dict) or "include" not in watch:
        return None

    def patterns(name: str) -> list[re.Pattern[str]]:
        value = watch.get(name, [])
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SynthError(f"{display_path(Path(app_dir) / CDK_JSON)}: watch.{name} must be a list of glob strings")
        return [glob_regex(v) for v in value]

    include, exclude = patterns("include"), patterns("exclude")
    chosen = []
    for path in iter_files(app_dir, top_level_ignored=IGNORED_TOP_DIRS):
        rel = path.relative_to(app_dir).as_posix()
        if any(p.fullmatch(rel) for p in include) and not any(p.fullmatch(rel) for p in exclude):
            chosen.append(path)
    return chosen


def _versions() -> str:
    try:
        cdk_version = importlib.metadata.version("aws-cdk-lib")
    except importlib.metadata.PackageNotFoundError:
        cdk_version = "unknown"
    return f"python={sys.version_info[:2]} aws-cdk-lib={cdk_version}"


def cache_key(app_dir: Path, watch: Iterable[Path], command: str, context: Mapping[str, Any]) -> str:
    """Content hash of everything that determines the assembly. Paths enter it relative to the app
    folder, so a moved checkout keeps its cache."""
    app_dir = Path(app_dir).resolve()
    h = hashlib.sha256()
    h.update(f"{_versions()}\ncommand={command}\n".encode())
    h.update(json.dumps(dict(context), sort_keys=True).encode() + b"\n")
    app_files = watched_files(app_dir)
    if app_files is not None:
        h.update(b"cdk.json watch\0")
        app_files = sorted({*app_files, app_dir / CDK_JSON})
    for index, base in enumerate([app_dir, *(Path(w).resolve() for w in watch)]):
        label = "app" if index == 0 else os.path.relpath(base, app_dir)
        if index == 0 and app_files is not None:
            files = app_files
        elif index == 0:
            files = iter_files(base, top_level_ignored=IGNORED_TOP_DIRS)
        elif base.is_dir():
            files = iter_files(base)
        elif base.is_file():
            files = [base]
        else:
            h.update(f"{label}\0missing\0".encode())  # creating it later changes the key
            continue
        for path in files:
            rel = os.path.relpath(path, base) if base.is_dir() else "."
            h.update(f"{label}\0{rel}\0{path.stat().st_size}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:32]


def tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    kept = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return "\n".join(kept[-lines:])


def run_command(command: str, app_dir: Path, env: dict[str, str], *, what: str) -> None:
    """Run `command` through the shell in `app_dir`, as the CLI does; SynthError with the command,
    the exit status and the tail of stderr (stdout when stderr is empty) when it fails."""
    try:
        proc = subprocess.Popen(command, shell=True, cwd=app_dir, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    except OSError as exc:
        raise SynthError(f"{what}: could not run `{command}` in {display_path(app_dir)}: {exc}") from None
    try:
        stdout, stderr = proc.communicate(timeout=SYNTH_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        stdout, stderr = proc.communicate()
        raise SynthError(f"{what}: `{command}` did not finish within {SYNTH_TIMEOUT_S}s:\n"
                         f"{tail(stderr) or tail(stdout) or '(no output)'}") from None
    if proc.returncode != 0:
        shown = tail(stderr) or (f"(no stderr; stdout:)\n{tail(stdout)}" if tail(stdout) else "(no output)")
        raise SynthError(f"{what}: `{command}` failed (exit {proc.returncode}) in {display_path(app_dir)}:\n{shown}")


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """The shell's children too (node, jsii): they would outlive a killed shell."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()


# What a CDK app writes to use NodejsFunction (TypeScript/JavaScript, Python, Java, .NET, Go names).
NODEJS_FUNCTION_MARKERS = (b"aws-lambda-nodejs", b"aws_lambda_nodejs", b"awslambdanodejs", b"NodejsFunction")
SOURCE_SUFFIXES = (".ts", ".mts", ".js", ".mjs", ".cjs", ".py", ".java", ".cs", ".go", ".kt")


def uses_nodejs_function(app_dir: Path) -> bool:
    """Whether the app's own source mentions CDK's NodejsFunction (its node_modules are not read)."""
    for path in iter_files(app_dir):
        if path.suffix in SOURCE_SUFFIXES and path.stat().st_size < 2_000_000:
            data = path.read_bytes()
            if any(marker in data for marker in NODEJS_FUNCTION_MARKERS):
                return True
    return False


def bundler_path(app_dir: Path) -> tuple[Path, ...]:
    """esbuild's folder when the app bundles NodejsFunction code: CDK bundles with a local esbuild
    and falls back to Docker, which this machine does not have (installed once, pinned)."""
    if not uses_nodejs_function(app_dir):
        return ()
    from harness import toolchain

    try:
        return (toolchain.esbuild().parent,)
    except toolchain.ToolchainError as exc:
        raise SynthError(f"{display_path(app_dir)} bundles NodejsFunction code, which needs esbuild: {exc}") from None


class CdkAppSource:
    accepts_context = True

    def __init__(self, spec: SourceSpec, *, cache_dir: Path | None = None, max_entries: int | None = None,
                 default_command: str | None = None) -> None:
        """`default_command` is the app command when the folder has no cdk.json (the sample's
        `infra/` may have none); any other app must have a cdk.json, as the CLI requires."""
        path = Path(spec.path).resolve()
        if not path.is_dir():
            raise SynthError(f"no CDK app at {display_path(path)}: no such folder")
        if not (path / CDK_JSON).is_file() and default_command is None:
            raise SynthError(f"no CDK app at {display_path(path)}: {CDK_JSON} is missing (it names the app command)")
        self.spec = SourceSpec(KIND, path, spec.stack, tuple(Path(w).resolve() for w in spec.watch))
        self.cache = SynthCache(Path(cache_dir) if cache_dir is not None else synth_cache_dir(path),
                                max_entries=max_entries)
        self._default_command = default_command

    def label(self) -> str:
        return f"CDK app {display_path(self.spec.path)}"

    def app_command(self) -> str:
        if (self.spec.path / CDK_JSON).is_file():
            command = read_cdk_json(self.spec.path).get("app")
        else:
            command = self._default_command
        if not isinstance(command, str) or not command.strip():
            raise SynthError(f"{display_path(self.spec.path / CDK_JSON)}: 'app' must name the command that "
                             "synthesizes the app (e.g. \"python3 app.py\" or \"npx tsx bin/app.ts\")")
        return _guess_executable(command, self.spec.path)

    def cache_key(self, context: Mapping[str, Any]) -> str:
        return cache_key(self.spec.path, self.spec.watch, self.app_command(), context)

    def synthesize(self, context: Mapping[str, object] | None = None) -> SynthResult:
        ctx = merged_context(self.spec.path, context)
        command = self.app_command()
        key = cache_key(self.spec.path, self.spec.watch, command, ctx)
        entry = self.cache.lookup(key)
        cached = entry is not None
        if entry is None:
            entry = self.cache.publish(key, lambda work: self._synth_into(work, command, ctx))
        return self._load(entry, cached)

    def _synth_into(self, work: Path, command: str, ctx: dict[str, Any]) -> dict[str, Any]:
        began = time.perf_counter()
        outdir = work / "cdk.out"
        env = app_environment(self.spec.path, outdir, ctx, extra_path=bundler_path(self.spec.path))
        build = read_cdk_json(self.spec.path).get("build")
        if isinstance(build, str) and build.strip():  # the CLI runs cdk.json's `build` before the app
            run_command(build, self.spec.path, env, what=f"{self.label()} (build)")
        run_command(command, self.spec.path, env, what=self.label())
        if not (outdir / assembly.MANIFEST).is_file():  # exit 0 without an assembly: app.synth() never ran
            raise SynthError(f"the CDK app wrote no cloud assembly ({outdir / assembly.MANIFEST} is missing); "
                             f"does `{command}` in {display_path(self.spec.path)} call app.synth()?")
        stacks = assembly.list_stacks(outdir, error=SynthError)  # a broken assembly is never published
        if not stacks:
            raise SynthError(f"{self.label()}: `{command}` wrote a cloud assembly with no stack")
        return {"command": command, "context": ctx, "stacks": [s.artifact_id for s in stacks],
                "synth_seconds": round(time.perf_counter() - began, 3)}

    def _load(self, entry: Path, cached: bool) -> SynthResult:
        outdir = entry / "cdk.out"
        stack = assembly.select_stack(assembly.list_stacks(outdir, error=SynthError), self.spec.stack,
                                      f"the {self.label()}", error=SynthError)
        template = assembly.load_stack(stack, error=SynthError)
        return SynthResult(template=template, assembly_dir=stack.directory, stack_name=stack.stack_name,
                           cached=cached, source_label=self.label())


def _guess_executable(command: str, app_dir: Path) -> str:
    """As the CLI does: an app that is just a .js file is run with node."""
    try:
        parts = shlex.split(command)
    except ValueError:  # unbalanced quotes: leave it to the shell to say so
        return command
    if len(parts) == 1 and parts[0].endswith(".js") and (Path(app_dir) / parts[0]).is_file():
        return f"node {shlex.quote(parts[0])}"
    return command
