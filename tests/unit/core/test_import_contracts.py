"""The import contracts of `.importlinter` (layers, no cycles, the engine's parts apart), one test per
contract so a failure names the contract it breaks; and the sample's Lambda code, which deploys
without the harness, never importing it.

`make test` runs `lint-imports` too; these tests make `pytest` alone catch a break.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / ".importlinter"
CONTRACT_PREFIX = "importlinter:contract:"


def _contract_ids() -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG, encoding="utf-8")
    return [section[len(CONTRACT_PREFIX):] for section in parser.sections() if section.startswith(CONTRACT_PREFIX)]


def test_the_config_has_the_layers_the_cycle_and_the_independence_contracts() -> None:
    assert {"layers", "no-cycles", "engine-independence", "runtime-layers", "esm-layers"} <= set(_contract_ids())


@pytest.mark.parametrize("contract", _contract_ids())
def test_import_contract_is_kept(contract: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = lint_imports(config_filename=str(CONFIG), limit_to_contracts=(contract,), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, f"import contract {contract!r} of {CONFIG.name} is broken:\n{report}"


def _shipped_lambda_modules() -> list[Path]:
    """Every Python file deployed as the sample's Lambda code: lambdas/ and the harness modules
    infra/bundle.py copies into a function's folder (`SHARED`)."""
    spec = importlib.util.spec_from_file_location("_sample_bundle", ROOT / "infra" / "bundle.py")
    assert spec is not None and spec.loader is not None
    bundle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bundle)
    shared = [Path(source) for files in bundle.SHARED.values() for source in files.values()]
    return sorted((ROOT / "lambdas").rglob("*.py")) + shared


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_sample_lambda_code_never_imports_the_harness() -> None:
    """The functions run on AWS, where no harness is installed: an import of it works locally and
    fails at the first invoke in the cloud."""
    modules = _shipped_lambda_modules()
    assert any(p.name == "app.py" for p in modules) and any(p.name == "checks.py" for p in modules)
    offenders = [str(p.relative_to(ROOT)) for p in modules if "harness" in _imported_roots(p)]
    assert offenders == [], f"Lambda code imports harness: {offenders}"


def test_the_lambda_import_scan_sees_every_import_form(tmp_path: Path) -> None:
    """The scan above can fail: each way of writing the import is caught, a relative one is not."""
    for line in ("import harness", "import harness.failures", "from harness import verdict",
                 "from harness.failures.checks import check_failure_object", "def f():\n    import harness"):
        module = tmp_path / "app.py"
        module.write_text(line + "\n")
        assert "harness" in _imported_roots(module), line
    module.write_text("from .harness import x\nimport boto3\n")
    assert _imported_roots(module) == {"boto3"}
