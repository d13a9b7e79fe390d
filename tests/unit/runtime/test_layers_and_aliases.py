"""FunctionSpec.layers (Lambda's /opt/python paths, after the task root) and invokes of an alias or
version (`name:qualifier`), through real awslambdaric workers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable

import pytest

from harness.runtime import FunctionNotFound, FunctionSpec, InvalidFunctionSpec, LocalRuntime
from harness.runtime.languages import prepare
from harness.runtime.validation import normalize_spec

SITE = f"python/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"


def _layer(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    root = tmp_path / name
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_layer_paths_follow_the_task_root_later_layers_first(code_dir: Path, tmp_path: Path) -> None:
    """Lambda extracts the layers into one /opt in order (a later layer's file replaces an earlier
    one's) and searches /opt/python/lib/python3.X/site-packages, then /opt/python, after /var/task."""
    first, second = _layer(tmp_path, "first", {"python/a.py": ""}), _layer(tmp_path, "second", {"python/b.py": ""})
    spec = normalize_spec(FunctionSpec("fn", code_dir, "app.ok", layers=(first, second)), region="us-east-1",
                          account_id="123456789012")
    env = prepare(spec).environment
    assert env["PYTHONPATH"].split(":") == [
        str(code_dir), str(second / SITE), str(first / SITE), str(second / "python"), str(first / "python")]


def test_a_layer_that_is_not_a_directory_is_refused_naming_the_function(code_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidFunctionSpec, match=r"function 'fn': layers\[1\] .*missing.* is not a directory"):
        normalize_spec(FunctionSpec("fn", code_dir, "app.ok", layers=(tmp_path, tmp_path / "missing")),
                       region="us-east-1", account_id="123456789012")


def test_a_function_imports_modules_from_its_layers(runtime: LocalRuntime, tmp_path: Path,
                                                    write_dir: Callable[[str, dict[str, str]], Path]) -> None:
    base = _layer(tmp_path, "base", {"python/shared.py": "WHO = 'base'\n", "python/only_base.py": "X = 1\n",
                                     f"{SITE}/vendored.py": "V = 'site-packages'\n"})
    override = _layer(tmp_path, "override", {"python/shared.py": "WHO = 'override'\n"})
    code = write_dir("uses_layers", {"app.py": """
        import only_base, shared, vendored
        def handler(event, context):
            return {"shared": shared.WHO, "base": only_base.X, "vendored": vendored.V}
        """})
    runtime.register(FunctionSpec("uses-layers", code, "app.handler", layers=(base, override)))
    result = runtime.invoke("uses-layers", b"{}")
    assert result.function_error is None, result.payload
    assert json.loads(result.payload) == {"shared": "override", "base": 1, "vendored": "site-packages"}


def test_without_the_layer_the_import_fails_as_on_lambda(runtime: LocalRuntime,
                                                         write_dir: Callable[[str, dict[str, str]], Path]) -> None:
    code = write_dir("no_layer", {"app.py": "import shared_nowhere\ndef handler(e, c):\n    return 1\n"})
    runtime.register(FunctionSpec("no-layer", code, "app.handler"))
    result = runtime.invoke("no-layer", b"{}")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorType"] == "Runtime.ImportModuleError"


def test_versions_and_aliases_resolve_at_invoke(runtime: LocalRuntime, code_dir: Path) -> None:
    runtime.register(FunctionSpec("versioned", code_dir, "app.ok"))
    assert [runtime.publish_version("versioned"), runtime.publish_version("versioned")] == ["1", "2"]
    runtime.register_alias("versioned", "live", "2")
    runtime.register_alias("versioned", "edge", "$LATEST")
    assert runtime.invoke("versioned:live", b"{}").executed_version == "2"
    assert runtime.invoke("versioned:1", b"{}").executed_version == "1"
    assert runtime.invoke("versioned:edge", b"{}").executed_version == "$LATEST"
    plain = runtime.invoke("versioned", b'{"a": 1}')
    assert plain.executed_version == "$LATEST" and json.loads(plain.payload)["echo"] == {"a": 1}
    runtime.register_alias("versioned", "live", "1")  # an alias moves
    assert runtime.invoke("versioned:live", b"{}").executed_version == "1"
    with pytest.raises(FunctionNotFound, match="'versioned' has no version or alias 'nope'"):
        runtime.invoke("versioned:nope", b"{}")
    with pytest.raises(InvalidFunctionSpec, match="alias 'bad' points at version '9', which was never published"):
        runtime.register_alias("versioned", "bad", "9")
    with pytest.raises(FunctionNotFound, match="'ghost'"):
        runtime.publish_version("ghost")
