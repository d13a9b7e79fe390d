"""A function's third-party packages, when its code folder names them but does not carry them.

AWS runs a function's zip as it is: a `requirements.txt` or `package.json` beside the handler
installs nothing. Tools such as `sam build` install them into the artifact; a CDK
`Code.fromAsset` folder often holds only the source. Rather than fail every invoke with an ImportModuleError that would not happen
after a proper build, the harness installs what is missing, once, into its cache (keyed by the
file's content and the interpreter), puts that folder on the function's path after the code, and
says so in the journal (`dependencies_installed`), so that nobody mistakes it for what AWS does.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

from harness import toolchain
from harness.runtime.spec import InvalidFunctionSpec

NOTE = "installed locally: make sure your deployment bundles them"
# What the Lambda Python runtime itself provides: listing these without bundling them works on AWS.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "python_dateutil", "urllib3", "six",
                              "awslambdaric"})
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def requirement_names(text: str) -> list[str] | None:
    """The distribution names a requirements file lists, or None when a line cannot be read as one
    (a URL, a path, `-e`/`-r`: then nobody can tell whether the folder carries it)."""
    names = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("--index-url", "--extra-index-url", "-i ", "--trusted-host", "--find-links", "-f ",
                            "--no-binary", "--only-binary", "--prefer-binary", "--pre")):
            continue
        match = _NAME.match(line)
        if line.startswith("-") or match is None or "://" in line or line.startswith((".", "/")):
            return None
        names.append(match.group(1))
    return names


def vendored(code_dir: Path, name: str) -> bool:
    """The folder already carries `name`: its .dist-info, or a top-level package/module of that name."""
    wanted = _normalize(name)
    for entry in code_dir.iterdir():
        if entry.name.endswith((".dist-info", ".egg-info")):
            stem = entry.name.removesuffix(".dist-info").removesuffix(".egg-info")
            if _normalize(stem.split("-", 1)[0]) == wanted:  # {name}-{version}, name with '-' as '_'
                return True
        elif _normalize(entry.name.removesuffix(".py")) == wanted and (entry.is_dir() or entry.suffix == ".py"):
            return True
    return False


def missing_requirements(code_dir: Path) -> tuple[Path, list[str]] | None:
    """(requirements.txt, the names it lists that the folder does not carry), or None if none are missing."""
    req = code_dir / "requirements.txt"
    if not req.is_file():
        return None
    names = requirement_names(req.read_text(encoding="utf-8", errors="replace"))
    if names is None:
        return req, ["(unreadable requirement lines)"]
    missing = [n for n in names if _normalize(n) not in RUNTIME_PROVIDED and not vendored(code_dir, n)]
    return (req, missing) if missing else None


def python_dependencies(function: str, code_dir: Path, python: Path, python_version: str, *,
                        journal: Any = None) -> Path | None:
    """The cache folder holding the function's missing requirements for this interpreter, or None."""
    found = missing_requirements(code_dir)
    if found is None:
        return None
    req, missing = found
    digest = hashlib.sha256(req.read_bytes()).hexdigest()[:16]
    minor = ".".join(python_version.split(".")[:2])
    try:
        target = toolchain.pip_target(
            python, [], requirements_file=req, key=f"python-deps-{minor}-{digest}",
            label=f"{req} for {function} (Python {minor})", journal=journal,
        )
    except toolchain.ToolchainError as exc:
        raise InvalidFunctionSpec(f"function {function!r}: its requirements.txt could not be installed: {exc}") from None
    if journal is not None:
        journal.record("dependencies_installed", function=function, requirements=str(req), target=str(target),
                       missing=missing, note=NOTE)
    return target


def missing_node_dependencies(code_dir: Path) -> tuple[Path, list[str]] | None:
    """(package.json, its runtime dependencies) when the folder has no node_modules to hold them.

    The AWS SDK v3 is left out: the Lambda Node.js runtime provides it.
    """
    pkg = code_dir / "package.json"
    if not pkg.is_file() or (code_dir / "node_modules").is_dir():
        return None
    try:
        deps = json.loads(pkg.read_text(encoding="utf-8")).get("dependencies") or {}
    except (OSError, ValueError, AttributeError):
        return None
    names = sorted(d for d in deps if isinstance(d, str) and not d.startswith("@aws-sdk/"))
    return (pkg, names) if names else None


def node_dependencies(function: str, code_dir: Path, node_major: int, *, journal: Any = None) -> Path | None:
    """A cached node_modules with the function's package.json dependencies (not dev ones, install
    scripts not run, versions from package-lock.json when there is one), or None if none are missing."""
    found = missing_node_dependencies(code_dir)
    if found is None:
        return None
    pkg, missing = found
    lock = code_dir / "package-lock.json"
    digest = hashlib.sha256(pkg.read_bytes() + (lock.read_bytes() if lock.is_file() else b"")).hexdigest()[:16]
    declared = json.loads(pkg.read_text(encoding="utf-8"))["dependencies"]

    def build(folder: Path) -> None:
        # Only what is missing: the SDK stays the runtime's, as on AWS when it is not bundled.
        manifest = {"name": "harness-function-dependencies", "private": True,
                    "dependencies": {name: declared[name] for name in missing}}
        (folder / "package.json").write_text(json.dumps(manifest), encoding="utf-8")
        if lock.is_file():  # versions as locked (npm prunes what the manifest no longer lists)
            shutil.copy(lock, folder / "package-lock.json")
        toolchain.run_tool([toolchain.npm(), "install", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund",
                            "--loglevel=error"], what=f"npm install for {pkg}", cwd=folder)

    try:
        target = toolchain.install_once(f"node-deps-node{node_major}-{digest}", f"{pkg} for {function}", build,
                                        journal=journal) / "node_modules"
    except toolchain.ToolchainError as exc:
        raise InvalidFunctionSpec(f"function {function!r}: its package.json dependencies could not be installed: "
                                  f"{exc}") from None
    if journal is not None:
        journal.record("dependencies_installed", function=function, requirements=str(pkg), target=str(target),
                       missing=missing, note=NOTE)
    return target
