"""The project file: which stack and which scenarios the harness uses when no flag says otherwise.

`harness.toml` (its keys at the top level), or a `[tool.harness]` table in `pyproject.toml`,
found in the current folder or the nearest parent that has one (a pyproject.toml without the
table does not count). Paths in it are relative to its folder.

    [tool.harness]
    app = "infra"              # or: assembly = "cdk.out", or: template = "template.yaml"
    stack = "MyStack"          # when the source holds several stacks
    scenarios = "scenarios"
    watch = ["lambdas"]        # app only: code outside the app folder that its synth reads

Without a project file the sample's layout is used: the CDK app in `infra/` and `scenarios/`,
relative to the current folder when it has `infra/cdk.json`, else to the harness checkout.

Opening the stack source is the project's job too: a command's stack source flags (declared in
harness/cli_support.py) override the project file; a relative path in a flag is relative to the
current folder, one in the project file to the file's folder. The synth cache is the project's
(harness/state_folders.py).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.cli_support import SOURCE_FLAGS
from harness.deploy.sources import SourceError, SourceSpec, StackSource, open_source
from harness.deploy.synth import APP_DIR, WATCHED
from harness.state_folders import synth_cache_dir

PROJECT_FILE = "harness.toml"
PYPROJECT = "pyproject.toml"
SOURCE_KEYS = ("app", "assembly", "template")
KEYS = (*SOURCE_KEYS, "stack", "scenarios", "watch")
DEFAULT_SCENARIOS = "scenarios"


class ProjectError(ValueError):
    """A project file that cannot be used: names the file and the key."""


@dataclass(frozen=True)
class Project:
    root: Path  # the folder of the project file, or the fallback root
    file: Path | None  # the file the settings came from; None: built-in defaults
    source: SourceSpec  # the default stack source
    scenarios: Path  # the default scenarios folder

    @property
    def synth_cache(self) -> Path:
        return synth_cache_dir(self.root)

    def open_source(self, spec: SourceSpec | None = None) -> StackSource:
        """The stack source `spec` names (default: the project's), with the project's synth cache."""
        return open_source(spec or self.source, cache_dir=self.synth_cache)


def load_project(start: Path | None = None) -> Project:
    """The project found from `start` (default: the current folder) upwards; ProjectError names a bad file."""
    origin = Path(start) if start is not None else Path.cwd()
    origin = origin.resolve()
    if origin.is_file():
        origin = origin.parent
    found = find_project_file(origin)
    if found is None:
        return _sample_project(origin)
    path, table, prefix = found
    return _from_table(path, table, prefix)


def find_project_file(start: Path) -> tuple[Path, dict[str, Any], str] | None:
    """(file, its harness settings, how messages name the table) for the nearest project file."""
    for folder in (start, *start.parents):
        own = folder / PROJECT_FILE
        pyproject = folder / PYPROJECT
        own_table = _read_toml(own) if own.is_file() else None
        tool_table = _harness_table(pyproject) if pyproject.is_file() else None
        if own_table is not None and tool_table is not None:
            raise ProjectError(f"{own} and {pyproject} [tool.harness] both configure the harness; keep one")
        if own_table is not None:
            return own, own_table, ""
        if tool_table is not None:
            return pyproject, tool_table, "tool.harness."
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc}") from None


def _harness_table(pyproject: Path) -> dict[str, Any] | None:
    tool = _read_toml(pyproject).get("tool")
    if not isinstance(tool, dict) or "harness" not in tool:
        return None
    if not isinstance(tool["harness"], dict):
        raise ProjectError(f"{pyproject}: [tool.harness] must be a table")
    return tool["harness"]


def _from_table(path: Path, table: dict[str, Any], prefix: str) -> Project:
    root = path.parent

    def fail(key: str, problem: str) -> ProjectError:
        return ProjectError(f"{path}: key '{prefix}{key}': {problem}")

    unknown = [k for k in table if k not in KEYS]
    if unknown:
        hint = ""
        if "harness" in unknown:
            hint = " (in harness.toml the keys go at the top level, with no [harness] table)"
        raise fail(unknown[0], f"unknown key; known keys: {', '.join(KEYS)}{hint}")
    for key in ("stack", "scenarios", *SOURCE_KEYS):
        if key in table and not (isinstance(table[key], str) and table[key].strip()):
            raise fail(key, f"must be a non-empty string, not {table[key]!r}")
    kinds = [k for k in SOURCE_KEYS if k in table]
    if len(kinds) != 1:
        if not kinds:
            raise ProjectError(f"{path}: no stack source; set exactly one of the keys "
                               f"{', '.join(repr(prefix + k) for k in SOURCE_KEYS)}")
        raise fail(kinds[1], f"only one of {', '.join(SOURCE_KEYS)} may be set, found {' and '.join(kinds)}")
    kind = kinds[0]
    source = _existing(root / table[kind], want_dir=kind != "template", error=lambda p: fail(kind, p))
    watch = table.get("watch", [])
    if "watch" in table:
        if kind != "app":
            raise fail("watch", f"applies to an app only (this project's source is {kind!r})")
        if not isinstance(watch, list) or not all(isinstance(w, str) and w.strip() for w in watch):
            raise fail("watch", f"must be a list of paths (strings), not {watch!r}")
    watched = tuple(
        _existing(root / w, want_dir=None, error=lambda p, i=i: fail(f"watch[{i}]", p)) for i, w in enumerate(watch)
    )
    if "scenarios" in table:
        scenarios = _existing(root / table["scenarios"], want_dir=None, error=lambda p: fail("scenarios", p))
    else:
        scenarios = (root / DEFAULT_SCENARIOS).resolve()
    spec = SourceSpec(kind, source, stack=table.get("stack"), watch=watched)
    return Project(root=root, file=path, source=spec, scenarios=scenarios)


def _existing(path: Path, *, want_dir: bool | None, error: Any) -> Path:
    """`path` resolved; error(problem) when it is missing or the wrong kind (want_dir None: either)."""
    resolved = path.resolve()
    if not resolved.exists():
        raise error(f"{resolved} does not exist")
    if want_dir is True and not resolved.is_dir():
        raise error(f"{resolved} is not a folder")
    if want_dir is False and not resolved.is_file():
        raise error(f"{resolved} is not a file")
    return resolved


def harness_checkout() -> Path:
    import harness

    return Path(harness.__file__).resolve().parents[1]


def _sample_project(start: Path) -> Project:
    """No project file: the sample's layout, here when this folder is a checkout, else the harness's own."""
    root = start if (start / APP_DIR / "cdk.json").is_file() else harness_checkout()
    watch = tuple(root / w for w in WATCHED if (root / w).exists())
    return Project(root=root, file=None, source=SourceSpec("app", root / APP_DIR, watch=watch),
                   scenarios=root / DEFAULT_SCENARIOS)


def default_source() -> StackSource:
    """The stack source of the project found from the current folder (else the sample's infra/)."""
    return load_project().open_source()


def resolve_source_args(args: Any, *, cwd: Path | None = None) -> tuple[Project, StackSource, Path]:
    """(the project, the stack source the flags or the project file name, the scenarios folder).

    `args` carries the flags of harness.cli_support.add_source_arguments (an argparse Namespace).
    SourceError or ProjectError, one line naming the flag, file or key at fault.
    """
    here = Path(cwd) if cwd is not None else Path.cwd()
    project = load_project(here)
    spec = _spec_from_flags(args, here, project) or _with_stack(project.source, getattr(args, "stack", None))
    scenarios = project.scenarios
    if getattr(args, "scenarios", None):
        scenarios = (here / args.scenarios).resolve()
        if not scenarios.exists():
            raise SourceError(f"--scenarios {args.scenarios}: {scenarios} does not exist")
    return project, project.open_source(spec), scenarios


def _spec_from_flags(args: Any, here: Path, project: Project) -> SourceSpec | None:
    given = [(kind, getattr(args, kind, None)) for kind in SOURCE_FLAGS if getattr(args, kind, None)]
    if not given:
        return None
    if len(given) > 1:  # argparse prevents it; a hand-built Namespace may not
        raise SourceError(f"{' and '.join(SOURCE_FLAGS[k] for k, _ in given)}: give one stack source, not several")
    kind, value = given[0]
    path = (here / value).resolve()
    if not path.exists():
        raise SourceError(f"{SOURCE_FLAGS[kind]} {value}: {path} does not exist")
    # The project's watch list still applies when the flag names the project's own app.
    same = project.source.kind == kind and project.source.path == path
    return SourceSpec(kind, path, stack=getattr(args, "stack", None) or (project.source.stack if same else None),
                      watch=project.source.watch if same else ())


def _with_stack(spec: SourceSpec, stack: str | None) -> SourceSpec:
    return SourceSpec(spec.kind, spec.path, stack or spec.stack, spec.watch)


__all__ = ["Project", "ProjectError", "default_source", "find_project_file", "load_project", "resolve_source_args"]
