"""The project file: which stack and which scenarios shardproof uses when no flag says otherwise.

`shardproof.toml` (its keys at the top level), or a `[tool.shardproof]` table in `pyproject.toml`,
found in the current folder or the nearest parent that has one (a pyproject.toml without the
table does not count). Paths in it are relative to its folder. The tool's former names,
`harness.toml` and `[tool.harness]`, are still read, with a note (LegacyProjectFileWarning) saying
what to rename.

    [tool.shardproof]
    app = "infra"              # or: assembly = "cdk.out", template = "template.yaml", serverless = "."
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
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.cli_support import SOURCE_FLAGS
from harness.deploy.sources import SourceError, SourceSpec, StackSource, open_source
from harness.deploy.synth import APP_DIR, WATCHED
from harness.state_folders import synth_cache_dir

PROJECT_FILE = "shardproof.toml"
TOOL_TABLE = "shardproof"
# The tool's former names: read, with a note, so a project that has them keeps working.
LEGACY_PROJECT_FILE = "harness.toml"
LEGACY_TOOL_TABLE = "harness"
PYPROJECT = "pyproject.toml"
SOURCE_KEYS = ("app", "assembly", "template", "serverless")
KEYS = (*SOURCE_KEYS, "stack", "scenarios", "watch")
DEFAULT_SCENARIOS = "scenarios"


class ProjectError(ValueError):
    """A project file that cannot be used: names the file and the key."""


class LegacyProjectFileWarning(UserWarning):
    """A project file under the tool's former name: it works; the note says what to rename."""


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
    """(file, its shardproof settings, how messages name the table) for the nearest project file."""
    for folder in (start, *start.parents):
        found = []
        for name in (PROJECT_FILE, LEGACY_PROJECT_FILE):
            if (folder / name).is_file():
                found.append((folder / name, _read_toml(folder / name), "", name))
        pyproject = folder / PYPROJECT
        if pyproject.is_file():
            tool = _tool_tables(pyproject)
            for table in (TOOL_TABLE, LEGACY_TOOL_TABLE):
                if table in tool:
                    found.append((pyproject, tool[table], f"tool.{table}.", f"{PYPROJECT} [tool.{table}]"))
        if len(found) > 1:
            named = " and ".join(str(folder / label) for *_, label in found)
            raise ProjectError(f"{named} all configure shardproof; keep one ({folder / PROJECT_FILE} "
                               f"or {pyproject} [tool.{TOOL_TABLE}])")
        if found:
            path, table, prefix, label = found[0]
            if label == LEGACY_PROJECT_FILE or prefix == f"tool.{LEGACY_TOOL_TABLE}.":
                new = PROJECT_FILE if label == LEGACY_PROJECT_FILE else f"[tool.{TOOL_TABLE}]"
                warnings.warn(LegacyProjectFileWarning(
                    f"{path}: {label.removeprefix(PYPROJECT + ' ')} is the tool's former name and is still read; "
                    f"rename it to {new}"), stacklevel=2)
            return path, table, prefix
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc}") from None


def _tool_tables(pyproject: Path) -> dict[str, dict[str, Any]]:
    """The [tool.shardproof] and [tool.harness] tables of a pyproject.toml that has them."""
    tool = _read_toml(pyproject).get("tool")
    if not isinstance(tool, dict):
        return {}
    tables = {}
    for name in (TOOL_TABLE, LEGACY_TOOL_TABLE):
        if name in tool:
            if not isinstance(tool[name], dict):
                raise ProjectError(f"{pyproject}: [tool.{name}] must be a table")
            tables[name] = tool[name]
    return tables


def _from_table(path: Path, table: dict[str, Any], prefix: str) -> Project:
    root = path.parent

    def fail(key: str, problem: str) -> ProjectError:
        return ProjectError(f"{path}: key '{prefix}{key}': {problem}")

    unknown = [k for k in table if k not in KEYS]
    if unknown:
        hint = ""
        if unknown[0] in (TOOL_TABLE, LEGACY_TOOL_TABLE):
            hint = f" (in {path.name} the keys go at the top level, with no [{unknown[0]}] table)"
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
        # Not required to exist yet: `describe` and `lint` come before any scenario is written, and
        # the commands that read scenarios name the missing folder themselves.
        scenarios = (root / table["scenarios"]).resolve()
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
    flagged = _spec_from_flags(args, here, project)
    if flagged is None and project.file is None and not project.source.path.exists():
        # An installed tool has no sample stack to fall back on: say what would give it one.
        raise SourceError(f"no shardproof.toml (or [tool.shardproof] in pyproject.toml) in {here} or a parent: "
                          "run `shardproof init` in your repository, or name the stack with --app DIR, "
                          "--assembly DIR or --template FILE")
    spec = flagged or _with_stack(project.source, getattr(args, "stack", None))
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


__all__ = ["LegacyProjectFileWarning", "Project", "ProjectError", "default_source", "find_project_file", "load_project",
           "resolve_source_args"]
