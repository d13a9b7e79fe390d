"""Find the scenarios of a folder: YAML and JSON files over a team's own items, and Python files.

- `*.yaml`, `*.yml`, `*.json`: one scenario (an object) or several (a list of objects), fields as in
  docs/scenarios.md; numbers become Decimals (DynamoDB's number type), so 0.1 stays exactly 0.1.
- `*.py`: a module defining `SCENARIO = Scenario(...)` (or `SCENARIOS = [...]`), for what needs
  code: hooks into the run, extra checks. Files named `_*` are helpers, not scenarios; the folder
  is on `sys.path` while scenario files load, so they can import them.

Files load by path (the folder is data, not a package) in file-name order, so numbered prefixes
decide the order of the suite and of the report. Every error names the file, and the item and the
field where there is one.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import yaml

from harness.scenarios.model import Scenario, ScenarioError

DATA_SUFFIXES = (".yaml", ".yml", ".json")
SUFFIXES = DATA_SUFFIXES + (".py",)
# YAML/JSON field -> Scenario field, where they differ.
FIELDS = {"name": "name", "title": "title", "description": "description", "items": "items", "poison": "poison",
          "context": "context", "table": "table", "mapping": "mapping", "handler": "handler", "expect": "expect",
          "fail_times": "fail_times", "clock": "clock", "spec": "spec_sections", "after": "steps",
          "rules": "rules"}
REQUIRED = ("name", "items")


def scenario_files(directory: Path) -> list[Path]:
    """The scenario files of `directory`, in suite order (helpers `_*` left out)."""
    return sorted(p for p in Path(directory).iterdir()
                  if p.is_file() and p.suffix in SUFFIXES and not p.name.startswith(("_", ".")))


def load_scenarios(directory: Path | None = None) -> list[Scenario]:
    """Every scenario in `directory` (default: the project's scenarios folder); names must be unique."""
    if directory is None:
        from harness.project import load_project

        directory = load_project().scenarios
    directory = Path(directory)
    if not directory.is_dir():
        raise ScenarioError(f"scenario folder {str(directory)!r} does not exist")
    out: list[Scenario] = []
    seen: dict[str, Path] = {}
    for path in scenario_files(directory):
        for sc in load_file(path):
            if sc.name in seen:
                raise ScenarioError(f"scenario name {sc.name!r} is defined twice: {seen[sc.name].name} and {path.name}")
            seen[sc.name] = path
            out.append(sc)
    return out


def load_file(path: Path) -> list[Scenario]:
    """The scenarios one file defines; ScenarioError naming the file (and item, field) when it is wrong."""
    path = Path(path)
    if path.suffix == ".py":
        return _load_python(path)
    if path.suffix in DATA_SUFFIXES:
        return _load_data(path)
    raise ScenarioError(f"{path}: not a scenario file (expected {', '.join(SUFFIXES)})")


# -- YAML / JSON -------------------------------------------------------------------------------


class _DecimalLoader(yaml.SafeLoader):
    """SafeLoader reading floats as Decimal: 19.99 must reach DynamoDB as 19.99, not 19.989999..."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    text = str(value).replace("_", "").lower()
    if text in (".nan", ".inf", "+.inf", "-.inf"):
        raise yaml.constructor.ConstructorError(None, None, f"{value!r} is not a number DynamoDB can store",
                                                node.start_mark)
    return Decimal(text)


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot be read: {exc}") from None
    if path.suffix == ".json":
        try:
            return json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"{path}: line {exc.lineno} column {exc.colno}: not JSON: {exc.msg}") from None
    try:
        return yaml.load(text, Loader=_DecimalLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{path}: {at}not valid YAML: {problem}") from None


def _load_data(path: Path) -> list[Scenario]:
    doc = _parse(path)
    entries = doc if isinstance(doc, list) else [doc]
    if not entries:
        raise ScenarioError(f"{path}: holds no scenario (an empty list)")
    out = []
    for n, entry in enumerate(entries):
        where = f"{path}" if not isinstance(doc, list) else f"{path}: scenario [{n}]"
        out.append(_from_mapping(entry, where, path))
    return out


def _from_mapping(entry: Any, where: str, path: Path) -> Scenario:
    if not isinstance(entry, dict):
        raise ScenarioError(f"{where}: a scenario must be an object with name, title, items..., got {type(entry).__name__}")
    unknown = [k for k in entry if k not in FIELDS]
    if unknown:
        raise ScenarioError(f"{where}: field {unknown[0]!r} is not a scenario field (known: {', '.join(FIELDS)})")
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise ScenarioError(f"{where}: field {missing[0]!r} is required")
    kwargs: dict[str, Any] = {FIELDS[k]: v for k, v in entry.items()}
    kwargs.setdefault("title", str(entry["name"]))
    if not isinstance(kwargs["items"], list):
        raise ScenarioError(f"{where}: field 'items' must be a list of items, got {type(kwargs['items']).__name__}")
    kwargs["items"] = tuple(kwargs["items"])
    if "steps" in kwargs:
        if not isinstance(kwargs["steps"], list):
            raise ScenarioError(f"{where}: field 'after' must be a list of steps, got {kwargs['steps']!r}")
        kwargs["steps"] = tuple(kwargs["steps"])
    if "rules" in kwargs:
        kwargs["rules"] = _rules(kwargs["rules"], where)
    for key in ("poison", "spec_sections"):
        if key in kwargs:
            value = kwargs[key]
            if not isinstance(value, list):
                field = "spec" if key == "spec_sections" else key
                raise ScenarioError(f"{where}: field {field!r} must be a list, got {value!r}")
            kwargs[key] = tuple(str(v) for v in value) if key == "spec_sections" else tuple(value)
    for key in ("context", "expect"):
        if key in kwargs and kwargs[key] is None:
            kwargs[key] = {}
    if "context" in kwargs and isinstance(kwargs["context"], dict):
        kwargs["context"] = {k: _plain(v) for k, v in kwargs["context"].items()}
    if kwargs.get("description") is None:
        kwargs["description"] = ""
    try:
        return Scenario(source_file=str(path), **kwargs)
    except ScenarioError:
        raise
    except TypeError as exc:  # a field of the wrong type deep in a constructor
        raise ScenarioError(f"{where}: {exc}") from None


def _rules(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """`rules: [{rule: ..., spec: ...}]`: the fidelity-matrix rows the scenario exercises."""
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: field 'rules' must be a list of {{rule, spec}} objects")
    out = []
    for n, r in enumerate(value):
        if not isinstance(r, dict) or set(r) != {"rule", "spec"} or not isinstance(r["rule"], str) or not r["rule"]:
            raise ScenarioError(f"{where}: rules[{n}] must be an object with a 'rule' (text) and a 'spec' (section)")
        out.append((r["rule"], str(r["spec"])))
    return tuple(out)


def _plain(value: Any) -> Any:
    """CDK context is JSON: a Decimal from the file goes back to int or float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# -- Python ------------------------------------------------------------------------------------


@contextmanager
def _on_path(directory: Path) -> Iterator[None]:
    entry = str(directory.resolve())
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)


def _load_python(path: Path) -> list[Scenario]:
    spec = importlib.util.spec_from_file_location(f"harness_scenario_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ScenarioError(f"scenario file {path.name}: cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    try:
        with _on_path(path.parent):
            spec.loader.exec_module(module)
    except ScenarioError as exc:
        raise ScenarioError(f"scenario file {path.name}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - name the file, not a bare traceback
        raise ScenarioError(f"scenario file {path.name}: {type(exc).__name__}: {exc}") from None
    found = getattr(module, "SCENARIOS", None)
    if found is None:
        one = getattr(module, "SCENARIO", None)
        found = [one] if one is not None else None
    if not found or not all(isinstance(s, Scenario) for s in found):
        raise ScenarioError(f"scenario file {path.name}: defines no SCENARIO = Scenario(...) (or SCENARIOS = [...])")
    return list(found)


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
