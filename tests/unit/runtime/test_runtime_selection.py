"""Which executable runs a function: the version its Runtime names, found or installed once, and
recorded (`runtime_selected`) so the report can say which Node/Python version ran it."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import toolchain
from harness.journal import Journal
from harness.runtime import FunctionSpec, InvalidFunctionSpec, LocalRuntime
from harness.runtime.languages import python as python_kind
from harness.runtime.spec import DEFAULT_RUNTIME

needs_node = pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None,
                                reason="Node.js and npm are needed for Node.js functions")

NODE_VERSION = "exports.handler = async () => ({ version: process.version, execPath: process.execPath });\n"
PY_VERSION = "import sys, platform\ndef handler(e, c):\n    return {'version': platform.python_version(), 'exe': sys.executable}\n"


def _machine_node_major() -> int | None:
    node = shutil.which("node")
    if node is None:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True)
    return int(out.stdout.strip().lstrip("v").split(".")[0])


def _selected(journal: Journal, name: str) -> dict:
    entries = journal.entries("runtime_selected", function=name)
    assert len(entries) == 1, entries
    return entries[0]


@needs_node
def test_nodejs20_runs_on_the_machines_node_when_its_major_matches(tmp_path: Path) -> None:
    if _machine_node_major() != 20:
        pytest.skip("the machine's node is not Node 20")
    (tmp_path / "index.js").write_text(NODE_VERSION)
    journal = Journal()
    with LocalRuntime(journal=journal) as rt:
        rt.register(FunctionSpec("n20", tmp_path, "index.handler", runtime="nodejs20.x"))
        seen = json.loads(rt.invoke("n20", b"{}").payload)
    entry = _selected(journal, "n20")
    assert entry["language"] == "nodejs" and entry["runtime"] == "nodejs20.x" and entry["warning"] is None
    assert entry["executable"] == shutil.which("node")
    assert entry["version"] == seen["version"] == subprocess.run(["node", "--version"], capture_output=True,
                                                                 text=True).stdout.strip()


@needs_node
def test_nodejs24_runs_on_npms_node_24_and_reports_its_real_version(tmp_path: Path) -> None:
    if _machine_node_major() == 24:
        pytest.skip("the machine's node is Node 24 already")
    (tmp_path / "index.js").write_text(NODE_VERSION)
    journal = Journal()
    with LocalRuntime(journal=journal) as rt:
        rt.register(FunctionSpec("n24", tmp_path, "index.handler", runtime="nodejs24.x"))
        seen = json.loads(rt.invoke("n24", b"{}").payload)
    entry = _selected(journal, "n24")
    assert seen["version"].startswith("v24.") and entry["version"] == seen["version"]
    assert Path(entry["executable"]) == Path(seen["execPath"])
    assert Path(entry["executable"]).is_relative_to(toolchain.cache_dir())


def test_python312_runs_on_python_312_when_the_machine_has_it(tmp_path: Path) -> None:
    found = python_kind.find_python(12)
    if found is None:
        pytest.skip("no Python 3.12 on this machine (PATH or pyenv)")
    (tmp_path / "app.py").write_text(PY_VERSION)
    journal = Journal()
    with LocalRuntime(journal=journal) as rt:
        rt.register(FunctionSpec("py312", tmp_path, "app.handler", runtime="python3.12", timeout_s=10))
        result = rt.invoke("py312", b"{}")
    assert result.function_error is None, result.payload
    seen = json.loads(result.payload)
    assert seen["version"].startswith("3.12.")
    entry = _selected(journal, "py312")
    assert entry == {**entry, "runtime": "python3.12", "language": "python", "version": seen["version"],
                     "executable": seen["exe"], "warning": None}


def test_absent_python_version_falls_back_to_the_harness_python_with_a_warning(tmp_path: Path, monkeypatch,
                                                                                capfd) -> None:
    """Simulate a machine without Python 3.13: no python3.13 on PATH, an empty pyenv."""
    if sys.version_info[:2] == (3, 13):
        pytest.skip("the harness itself runs on 3.13")
    path = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "python3.13").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join(path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text(PY_VERSION)
    journal = Journal()
    with LocalRuntime(journal=journal) as rt:
        rt.register(FunctionSpec("py313", code, "app.handler", runtime="python3.13"))
        seen = json.loads(rt.invoke("py313", b"{}").payload)
    assert seen["version"] == platform.python_version()
    entry = _selected(journal, "py313")
    assert entry["version"] == platform.python_version() and entry["executable"] == sys.executable
    assert "python3.13" in entry["warning"] and "harness's Python" in entry["warning"]
    assert "warning" in capfd.readouterr().err


def test_default_runtime_is_the_harness_python_without_a_warning(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(PY_VERSION)
    journal = Journal()
    with LocalRuntime(journal=journal) as rt:
        rt.register(FunctionSpec("dflt", tmp_path, "app.handler"))
        seen = json.loads(rt.invoke("dflt", b"{}").payload)
    entry = _selected(journal, "dflt")
    assert entry["runtime"] == DEFAULT_RUNTIME == f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert entry["warning"] is None and seen["version"] == entry["version"] == platform.python_version()


@pytest.mark.parametrize("runtime", ["java21", "nodejs16.x", "python2.7", "provided.al2023", None])
def test_unsupported_runtime_is_refused_at_registration_naming_the_supported_ones(tmp_path: Path, runtime) -> None:
    with LocalRuntime() as rt:
        with pytest.raises(InvalidFunctionSpec, match=r"function 'x': runtime .* is not supported .*supported: "
                                                      r"python3\.x, nodejs18\.x, nodejs20\.x, nodejs22\.x, nodejs24\.x"):
            rt.register(FunctionSpec("x", tmp_path, "app.handler", runtime=runtime))
        assert rt.functions() == []


def test_layers_must_be_folders(tmp_path: Path) -> None:
    with LocalRuntime() as rt:
        with pytest.raises(InvalidFunctionSpec, match=r"function 'x': layers\[1\] .*missing.* is not a directory"):
            rt.register(FunctionSpec("x", tmp_path, "app.handler", layers=(tmp_path, tmp_path / "missing")))
        with pytest.raises(InvalidFunctionSpec, match="layers must be a tuple of folders"):
            rt.register(FunctionSpec("x", tmp_path, "app.handler", layers=str(tmp_path)))  # type: ignore[arg-type]


def test_python_layer_is_importable_after_the_code(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "shared.py").write_text("WHO = 'layer'\n")
    (layer / "python" / "clash.py").write_text("WHO = 'layer'\n")
    code = tmp_path / "fn"
    code.mkdir()
    (code / "clash.py").write_text("WHO = 'code'\n")
    (code / "app.py").write_text("import shared, clash\ndef handler(e, c):\n    return [shared.WHO, clash.WHO]\n")
    with LocalRuntime() as rt:
        rt.register(FunctionSpec("layered", code, "app.handler", layers=(layer,)))
        assert json.loads(rt.invoke("layered", b"{}").payload) == ["layer", "code"]


@needs_node
@pytest.mark.parametrize("runtime", ["nodejs20.x", "nodejs24.x"])
def test_node_layers_resolve_for_require_and_import(tmp_path: Path, runtime: str) -> None:
    major = runtime[len("nodejs"):-2]
    general, versioned = tmp_path / "layer-a", tmp_path / "layer-b"
    (general / "nodejs" / "node_modules" / "shared-lib").mkdir(parents=True)
    (general / "nodejs" / "node_modules" / "shared-lib" / "index.js").write_text("module.exports = { who: 'general' };\n")
    (versioned / "nodejs" / f"node{major}" / "node_modules" / "versioned-lib").mkdir(parents=True)
    (versioned / "nodejs" / f"node{major}" / "node_modules" / "versioned-lib" / "index.js").write_text(
        "module.exports = { who: 'versioned' };\n")
    code = tmp_path / "fn"
    code.mkdir()
    (code / "cjs.js").write_text("const a = require('shared-lib'), b = require('versioned-lib');\n"
                                 "exports.handler = async () => [a.who, b.who];\n")
    (code / "esm.mjs").write_text("import a from 'shared-lib';\nimport b from 'versioned-lib';\n"
                                  "export const handler = async () => [a.who, b.who];\n")
    with LocalRuntime() as rt:
        for style in ("cjs", "esm"):
            rt.register(FunctionSpec(style, code, f"{style}.handler", runtime=runtime, layers=(general, versioned)))
            result = rt.invoke(style, b"{}")
            assert result.function_error is None, result.payload
            assert json.loads(result.payload) == ["general", "versioned"]


@needs_node
def test_node_worker_never_sees_the_harness_credentials(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "someones-real-account")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    monkeypatch.setenv("AWS_LAMBDA_MAX_CONCURRENCY", "8")
    (tmp_path / "index.js").write_text(
        "exports.handler = async () => Object.fromEntries(['AWS_PROFILE', 'AWS_SECRET_ACCESS_KEY', "
        "'AWS_LAMBDA_MAX_CONCURRENCY'].map((k) => [k, process.env[k] ?? null]));\n")
    with LocalRuntime(base_environment={"AWS_SECRET_ACCESS_KEY": "fake-local"}) as rt:
        rt.register(FunctionSpec("creds", tmp_path, "index.handler", runtime="nodejs24.x"))
        seen = json.loads(rt.invoke("creds", b"{}").payload)
    assert seen == {"AWS_PROFILE": None, "AWS_SECRET_ACCESS_KEY": "fake-local", "AWS_LAMBDA_MAX_CONCURRENCY": None}
