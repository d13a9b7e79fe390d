"""The project file: which stack and which scenarios the harness uses when no flag says otherwise.

`harness.toml` (a `[harness]` table), or `[tool.harness]` in `pyproject.toml`, found in the
current folder or the nearest parent that has one. Paths in it are relative to its folder.
Without a project file the sample's layout is used: the CDK app in `infra/` and `scenarios/`.

    [tool.harness]
    app = "infra"              # or: assembly = "cdk.out", or: template = "template.yaml"
    stack = "MyStack"          # when the source holds several stacks
    scenarios = "scenarios"
    watch = ["lambdas"]        # app only: code outside the app folder that its synth reads

INTERFACE PINNED, IMPLEMENTATION IN PROGRESS (issue 11).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.deploy.sources import SourceSpec


class ProjectError(ValueError):
    """A project file that cannot be used: names the file and the key."""


@dataclass(frozen=True)
class Project:
    root: Path  # the folder of the project file, or the fallback root
    file: Path | None  # the file the settings came from; None: built-in defaults
    source: SourceSpec  # the default stack source
    scenarios: Path  # the default scenarios folder


def load_project(start: Path | None = None) -> Project:
    """The project found from `start` (default: the current folder) upwards; ProjectError names a bad file."""
    raise NotImplementedError("UNFINISHED: project files are being implemented (issue 11)")


__all__ = ["Project", "ProjectError", "load_project"]
