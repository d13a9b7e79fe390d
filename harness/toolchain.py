"""Tools the harness fetches from npm and PyPI itself, once per machine, into a user cache.

Node.js functions need AWS's runtime interface client, the Node binary their Runtime names and
the AWS SDK for JavaScript; CDK `NodejsFunction` needs esbuild; a python3.12 function needs
awslambdaric built for 3.12. None of these belong in the repository or in the harness's venv,
and none must be downloaded again on every run, so each is installed once into
`$SHARDPROOF_CACHE_DIR` (or `$HARNESS_CACHE_DIR`; default `~/.cache/shardproof`) under a key naming
exactly what is in it.

Two processes may ask for the same tool at once (pytest-xdist, two shells): installs are
serialised by a file lock per key and published by an atomic rename, so a reader sees either
nothing or a complete install, never a half-written one. npm install scripts are never run.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Written last inside an install folder; a folder without it is an interrupted install.
_COMPLETE = ".harness-complete"
# The esbuild CDK's NodejsFunction bundles with, when it is on PATH (no Docker needed).
ESBUILD_VERSION = "0.28.2"
_SAFE_KEY = re.compile(r"[^A-Za-z0-9._@+-]+")
STDERR_TAIL = 2000


class ToolchainError(RuntimeError):
    """A tool could not be found or installed; the message names the tool and the command's error."""


def cache_dir() -> Path:
    """`$SHARDPROOF_CACHE_DIR`, else `$HARNESS_CACHE_DIR` (the former name), else `~/.cache/shardproof`."""
    configured = os.environ.get("SHARDPROOF_CACHE_DIR") or os.environ.get("HARNESS_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "shardproof"


def _announce(label: str, journal: Any) -> None:
    print(f"shardproof: installing {label} (once, into {cache_dir()})", file=sys.stderr, flush=True)
    if journal is not None:
        journal.record("toolchain_install", tool=label, cache=str(cache_dir()))


def install_once(key: str, label: str, build: Callable[[Path], None], *, journal: Any = None) -> Path:
    """The folder `<cache>/<key>`, built by `build(tmp_folder)` the first time anyone asks for it.

    `build` fills an empty folder; it is renamed into place only when `build` returned, so an
    interrupted or failed install leaves nothing behind that a later call would trust.
    """
    root = cache_dir()
    target = root / _SAFE_KEY.sub("_", key)
    if (target / _COMPLETE).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    locks = root / ".locks"
    locks.mkdir(exist_ok=True)
    with open(locks / (target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process installing the same key: wait for it
        if (target / _COMPLETE).is_file():
            return target
        _announce(label, journal)
        began = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=root))
        try:
            build(tmp)
            (tmp / _COMPLETE).write_text(f"{label}\n", encoding="utf-8")
            if target.exists():  # an interrupted install from before: nobody can be using it
                shutil.rmtree(target, ignore_errors=True)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if journal is not None:
            journal.record("toolchain_installed", tool=label, path=str(target),
                           seconds=round(time.monotonic() - began, 3))
    return target


def run_tool(argv: Sequence[str], *, what: str, cwd: Path | None = None, env: dict[str, str] | None = None,
             timeout_s: float = 900.0) -> subprocess.CompletedProcess[str]:
    """Run an installer; a failure raises ToolchainError with the command and its stderr's tail."""
    try:
        proc = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ToolchainError(f"{what}: {argv[0]!r} is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"{what}: `{' '.join(argv)}` did not finish within {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout or "").strip()[-STDERR_TAIL:]
        raise ToolchainError(f"{what}: `{' '.join(argv)}` failed (exit {proc.returncode}):\n{tail}")
    return proc


# ---- npm -------------------------------------------------------------------------------------

def npm() -> str:
    found = shutil.which("npm")
    if found is None:
        raise ToolchainError("npm is not on PATH: Node.js functions and esbuild need Node.js and npm installed")
    return found


def npm_install(packages: Sequence[tuple[str, str]], *, key: str | None = None, journal: Any = None) -> Path:
    """`node_modules` holding exactly `packages` ((name, version) pairs), installed once.

    Install scripts are not run (`--ignore-scripts`): what a package needs at run time must be in
    its tarball, which is what the harness relies on and tests.
    """
    if not packages:
        raise ValueError("npm_install needs at least one package")
    specs = [f"{name}@{version}" for name, version in packages]
    if key is None:
        key = "npm/" + "+".join(specs) if len(specs) == 1 else "npm/set-" + hashlib.sha256(
            "\n".join(sorted(specs)).encode()).hexdigest()[:16]

    def build(folder: Path) -> None:
        (folder / "package.json").write_text('{"name": "harness-toolchain", "private": true}\n', encoding="utf-8")
        run_tool([npm(), "install", "--ignore-scripts", "--no-audit", "--no-fund", "--no-package-lock",
                  "--loglevel=error", "--prefix", str(folder), *specs],
                 what=f"installing {', '.join(specs)} from npm")

    return install_once(key.replace("/", "-"), ", ".join(specs), build, journal=journal) / "node_modules"


def npm_package(name: str, version: str, *, journal: Any = None) -> Path:
    """The folder of npm package `name@version` (its package.json is inside), installed once."""
    return npm_install([(name, version)], journal=journal) / name


def _npm_platform() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    system = platform.system().lower()
    if arch is None or system not in ("linux", "darwin"):
        raise ToolchainError(f"no npm build of Node.js/esbuild for this platform ({system} {machine})")
    return f"{system}-{arch}"


def node_binary(major: int, *, journal: Any = None) -> Path:
    """The `node` executable of Node.js `major` (the newest release of it on npm at first install).

    npm's `node-<os>-<arch>` package is the official Node.js build itself, so no installer,
    compiler or download outside the npm registry is needed.
    """
    package = f"node-{_npm_platform()}"
    exe = npm_package(package, str(int(major)), journal=journal) / "bin" / "node"
    if not exe.is_file():
        raise ToolchainError(f"{package}@{major} from npm has no bin/node at {exe}")
    return exe


def esbuild(version: str = ESBUILD_VERSION, *, journal: Any = None) -> Path:
    """The esbuild executable for this platform, e.g. for CDK `NodejsFunction` bundling without Docker.

    esbuild's own package only installs a JS shim unless its install script runs; the real binary
    is its optional dependency `@esbuild/<os>-<arch>`, installed with it and returned here.
    """
    package = f"@esbuild/{_npm_platform()}"
    modules = npm_install([("esbuild", version)], journal=journal)
    exe = modules / package / "bin" / "esbuild"
    if not exe.is_file():
        raise ToolchainError(f"esbuild@{version}: npm did not install its platform binary {package} ({exe} is missing)")
    return exe


# ---- pip -------------------------------------------------------------------------------------

def pip_target(python: Path, requirements: Sequence[str], *, key: str, label: str, journal: Any = None,
               requirements_file: Path | None = None) -> Path:
    """A folder of packages installed for interpreter `python` with `pip install --target`, once.

    `requirements` are pip arguments (`"awslambdaric==4.2.2"`); `requirements_file` adds `-r FILE`.
    """
    def build(folder: Path) -> None:
        argv = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
                "--target", str(folder), *requirements]
        if requirements_file is not None:
            argv += ["-r", str(requirements_file)]
        run_tool(argv, what=f"pip install for {label}")

    return install_once(key, label, build, journal=journal)
