"""Find the scenario files: `scenarios/*.py`, each defining `SCENARIO = Scenario(...)`.

Files are loaded by path (the folder is data, not a package), in file-name order, so the
numbered prefixes decide the order of the suite and of the report.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from harness.pipeline import PROJECT_ROOT
from harness.scenarios.model import Scenario, ScenarioError

SCENARIO_DIR = PROJECT_ROOT / "scenarios"


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[Scenario]:
    """Every scenario in `directory`; a broken file raises ScenarioError naming the file."""
    if not directory.is_dir():
        raise ScenarioError(f"scenario folder {str(directory)!r} does not exist")
    out: list[Scenario] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"harness_scenario_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise ScenarioError(f"scenario file {path.name}: cannot be loaded")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except ScenarioError as exc:
            raise ScenarioError(f"scenario file {path.name}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - name the file, not a bare traceback
            raise ScenarioError(f"scenario file {path.name}: {type(exc).__name__}: {exc}") from None
        sc = getattr(module, "SCENARIO", None)
        if not isinstance(sc, Scenario):
            raise ScenarioError(f"scenario file {path.name}: defines no SCENARIO = Scenario(...)")
        if sc.name in seen:
            raise ScenarioError(f"scenario name {sc.name!r} is defined twice: {seen[sc.name].name} and {path.name}")
        seen[sc.name] = path
        out.append(sc)
    return out


def select(scenarios: list[Scenario], names: list[str] | None) -> list[Scenario]:
    """The named scenarios, in suite order; an unknown name raises with the known names."""
    if not names:
        return scenarios
    known = {s.name: s for s in scenarios}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ScenarioError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    wanted = set(names)
    return [s for s in scenarios if s.name in wanted]
