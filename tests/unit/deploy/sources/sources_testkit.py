"""Helpers for stack source tests: small apps that need no CDK, and assemblies built from the fixture."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parents[1] / "fixtures"
FIXTURE_ASSEMBLY = FIXTURES / "assembly"
CDK_APP = Path(__file__).parents[1] / "cdk_app"

# An app in no CDK language at all: a shell script that writes a one-stack cloud assembly itself,
# recording what it was given (its context, the python3 its PATH finds, a file of the app folder).
SHELL_APP = r"""#!/bin/sh
set -e
mkdir -p "$CDK_OUTDIR"
cat > "$CDK_OUTDIR/manifest.json" <<JSON
{"version": "36.0.0", "artifacts": {"Shell": {"type": "aws:cloudformation:stack",
 "properties": {"templateFile": "Shell.template.json", "stackName": "ShellStack"}}}}
JSON
cat > "$CDK_OUTDIR/Shell.template.json" <<JSON
{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
 "Metadata": {"context": $CDK_CONTEXT_JSON, "python3": "$(command -v python3)", "args": "$*",
              "marker": "$(cat marker.txt)"}}
JSON
"""


def write_shell_app(folder: Path, *, context: dict[str, Any] | None = None,
                    command: str = "sh synth.sh --from-cdk-json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "synth.sh").write_text(SHELL_APP)
    (folder / "marker.txt").write_text("v1")
    (folder / "cdk.json").write_text(json.dumps({"app": command, "context": context or {}}))
    return folder


def write_executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def stack_artifact(artifact_id: str, template_file: str, stack_name: str | None = None,
                   display_name: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"templateFile": template_file}
    if stack_name:
        props["stackName"] = stack_name
    art: dict[str, Any] = {"type": "aws:cloudformation:stack", "properties": props}
    if display_name:
        art["displayName"] = display_name
    return art


def nested_artifact(directory: str, display_name: str) -> dict[str, Any]:
    return {"type": "cdk:cloud-assembly", "properties": {"directoryName": directory, "displayName": display_name}}


def write_manifest(folder: Path, artifacts: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": artifacts}))


def copy_fixture_assembly(folder: Path) -> Path:
    """The fixture's template, asset manifest and asset folder, as `cdk synth` leaves them."""
    shutil.copytree(FIXTURE_ASSEMBLY, folder, dirs_exist_ok=True)
    return folder


def fixture_template() -> dict[str, Any]:
    return json.loads((FIXTURE_ASSEMBLY / "Fixture.template.json").read_text())


# A Python app that is not a CDK app: writes the files of layout.json (path -> JSON) into CDK_OUTDIR.
LAYOUT_APP = """\
import json, os, pathlib
out = pathlib.Path(os.environ["CDK_OUTDIR"])
for rel, content in json.loads(pathlib.Path("layout.json").read_text()).items():
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    (out / rel).write_text(json.dumps(content))
"""


def write_layout_app(folder: Path, layout: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "layout.py").write_text(LAYOUT_APP)
    (folder / "layout.json").write_text(json.dumps(layout))
    (folder / "cdk.json").write_text(json.dumps({"app": "python3 layout.py"}))
    return folder


def queue_template(lid: str) -> dict[str, Any]:
    return {"Resources": {lid: {"Type": "AWS::SQS::Queue"}}}
