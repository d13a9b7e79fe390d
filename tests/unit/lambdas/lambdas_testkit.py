"""Load deployable Lambda modules the way the Lambda runtime does: function dir on sys.path."""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[3]
LAMBDAS = ROOT / "lambdas"
_assembled: dict[str, Path] = {}


def code_dir(function: str) -> Path:
    """The function's code as deployed: lambdas/<function> plus shared modules (infra/bundle.py)."""
    if function not in _assembled:
        sys.path.insert(0, str(ROOT / "infra"))
        from bundle import assemble  # type: ignore[import-not-found]

        scratch = Path(tempfile.mkdtemp(prefix=f"lambda-{function}-"))
        atexit.register(shutil.rmtree, scratch, True)
        _assembled[function] = assemble(function, scratch / function)
    return _assembled[function]


def load_lambda_module(function: str, module: str) -> ModuleType:
    """Import <function>/<module>.py as deployed; `app` gets a unique name since every function has one."""
    root = code_dir(function)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    name = f"_lambda_{function}_{module}" if module == "app" else module
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, root / f"{module}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
