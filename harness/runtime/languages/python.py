"""Python functions: `python -m awslambdaric <handler>` on the interpreter the Runtime names.

A python3.12 function runs on a Python 3.12 found on this machine (PATH, then pyenv's
versions folder), with `awslambdaric` and `boto3` (the harness's own pinned versions; the Lambda
Python runtime ships boto3) installed for it once into the cache. When no such interpreter
exists, it runs on the harness's own Python, with a warning in the journal and on stderr: a
version difference must never pass unnoticed.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness import toolchain
from harness.runtime.dependencies import python_dependencies
from harness.runtime.languages.base import Launch
from harness.runtime.spec import FunctionSpec, InvalidFunctionSpec

_RUNTIME = re.compile(r"^python3\.(\d{1,2})$")
_PROBE = "import platform; print(platform.python_version())"


@functools.lru_cache(maxsize=None)
def _probe(executable: str) -> str | None:
    """The interpreter's version, or None if it does not run (a pyenv shim for a version not set)."""
    try:
        out = subprocess.run([executable, "-c", _PROBE], capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _version_key(folder: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", folder.name)) or (0,)


def pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def find_python(minor: int) -> tuple[Path, str] | None:
    """(executable, version) of a Python 3.<minor> on this machine: PATH first, then pyenv."""
    if sys.version_info[:2] == (3, minor):
        return Path(sys.executable), platform.python_version()
    candidates: list[Path] = []
    on_path = shutil.which(f"python3.{minor}")
    if on_path:
        candidates.append(Path(on_path))
    versions = pyenv_root() / "versions"
    if versions.is_dir():
        for folder in sorted(versions.glob(f"3.{minor}.*"), key=_version_key, reverse=True):
            candidates.append(folder / "bin" / f"python3.{minor}")
    for exe in candidates:
        version = _probe(str(exe))
        if version is not None and version.startswith(f"3.{minor}."):
            return exe, version
    return None


def _runtime_dir() -> str:
    """Where the harness's own awslambdaric lives (Lambda's /var/runtime)."""
    found = importlib.util.find_spec("awslambdaric")
    origin = found.origin if found is not None else None
    return os.path.dirname(os.path.dirname(origin)) if origin else ""


def runtime_packages(python: Path, minor: int, *, journal: Any = None) -> Path:
    """awslambdaric and boto3, at the harness's own pinned versions, built for another interpreter."""
    ric = importlib.metadata.version("awslambdaric")
    boto3 = importlib.metadata.version("boto3")
    return toolchain.pip_target(
        python, [f"awslambdaric=={ric}", f"boto3=={boto3}"],
        key=f"python-runtime-cp3{minor}-awslambdaric-{ric}-boto3-{boto3}",
        label=f"awslambdaric {ric} and boto3 {boto3} for Python 3.{minor}", journal=journal,
    )


class PythonKind:
    name = "python"
    runtimes = ("python3.x",)

    def serves(self, runtime: str) -> bool:
        return bool(_RUNTIME.match(runtime))

    def prepare(self, spec: FunctionSpec, *, journal: Any) -> Launch:
        match = _RUNTIME.match(spec.runtime)
        assert match is not None
        minor = int(match.group(1))
        warning = None
        found = find_python(minor)
        if found is None:
            python, version = Path(sys.executable), platform.python_version()
            warning = (
                f"function {spec.name!r} names {spec.runtime} but no Python 3.{minor} is installed here (looked on "
                f"PATH and in {pyenv_root() / 'versions'}): it runs on the harness's Python {version} instead; "
                f"install Python 3.{minor} (e.g. `pyenv install 3.{minor}`) to run it on its own version"
            )
            print(f"harness: warning: {warning}", file=sys.stderr, flush=True)
        else:
            python, version = found
        path = [str(spec.code_dir)]
        deps = python_dependencies(spec.name, spec.code_dir, python, version, journal=journal)
        if deps is not None:
            path.append(str(deps))
        path += layer_paths(spec.layers, minor)
        if python == Path(sys.executable):
            runtime_dir = _runtime_dir()
        else:
            try:
                runtime_dir = str(runtime_packages(python, minor, journal=journal))
            except toolchain.ToolchainError as exc:
                raise InvalidFunctionSpec(f"function {spec.name!r} ({spec.runtime}): {exc}") from None
            path.append(runtime_dir)
        environment = {
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(path),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_RUNTIME_DIR": runtime_dir,
        }
        return Launch(
            runtime=spec.runtime, language=self.name, version=version, executable=python,
            argv=(str(python), "-m", "awslambdaric", spec.handler), environment=environment, warning=warning,
        )


KIND = PythonKind()


def layer_paths(layers: tuple[Path, ...], minor: int) -> list[str]:
    """Lambda's /opt/python/lib/python3.X/site-packages then /opt/python, after the task root.

    Lambda extracts the layers into one /opt in order, a later layer's file replacing an earlier
    one's; with one folder per layer that is: site-packages before python, later layers first.
    """
    later_first = list(reversed(layers))
    return ([str(layer / "python" / "lib" / f"python3.{minor}" / "site-packages") for layer in later_first]
            + [str(layer / "python") for layer in later_first])
