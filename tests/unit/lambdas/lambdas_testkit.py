"""Load deployable Lambda modules the way the Lambda runtime does: function dir on sys.path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

LAMBDAS = Path(__file__).resolve().parents[3] / "lambdas"


def load_lambda_module(function: str, module: str) -> ModuleType:
    """Import lambdas/<function>/<module>.py; `app` gets a unique name since every function has one."""
    root = LAMBDAS / function
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
