"""Which stack source a team's repository holds, found by the files each kind leaves behind.

`shardproof init` asks this so that a team does not have to know the source kinds: a CDK app has
its `cdk.json`, a synthesized one its `cdk.out/manifest.json`, SAM and CloudFormation a template
(`template.yaml` by SAM's convention, or any top-level YAML/JSON that declares CloudFormation),
and a Serverless Framework service its `serverless.yml`. The source is found, never guessed: a
folder with none of these gets an error that says what was looked for.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path


SAM_TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")
# Folders a CDK app commonly lives in when it is not at the repository root, looked at first; any other
# folder one level down that holds a cdk.json counts too.
APP_FOLDERS = ("infra", "cdk", "infrastructure", "deploy", "app", "iac")
_NOT_APPS = frozenset({"node_modules", "cdk.out", ".venv", "venv", ".git", ".harness"})
SERVERLESS_FILES = ("serverless.yml", "serverless.yaml", "serverless.ts", "serverless.json")
_CFN_MARKERS = re.compile(r"AWSTemplateFormatVersion|Transform\W+AWS::Serverless|Type\W+AWS::Lambda::EventSourceMapping")
_MAX_TEMPLATE_BYTES = 5_000_000


@dataclass(frozen=True)
class Detected:
    kind: str  # a project-file key: "app", "assembly", "template" or "serverless"
    path: Path  # relative to the folder searched
    why: str  # what gave it away, for the message


def detect_sources(folder: Path) -> list[Detected]:
    """Every stack source in `folder`, the one to prefer first (the app over its own cdk.out; a
    template SAM names over another template). Empty when there is none."""
    folder = Path(folder)
    found: list[Detected] = []
    others = sorted(p.parent.name for p in folder.glob("*/cdk.json")
                    if p.parent.name not in APP_FOLDERS and p.parent.name not in _NOT_APPS)
    for sub in ("", *APP_FOLDERS, *others):
        if (folder / sub / "cdk.json").is_file():
            found.append(Detected("app", Path(sub or "."), f"{Path(sub) / 'cdk.json'}"))
    for sub in ("", *APP_FOLDERS):
        if (folder / sub / "cdk.out" / "manifest.json").is_file():
            found.append(Detected("assembly", Path(sub) / "cdk.out", f"{Path(sub) / 'cdk.out' / 'manifest.json'}"))
    seen: set[Path] = set()
    for name in SAM_TEMPLATE_NAMES:
        if (folder / name).is_file() and _declares_cloudformation(folder / name):
            found.append(Detected("template", Path(name), f"{name} (a SAM/CloudFormation template)"))
            seen.add(Path(name))
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml"), *folder.glob("*.json")]):
        rel = path.relative_to(folder)
        if rel not in seen and rel.name not in SERVERLESS_FILES and _declares_cloudformation(path):
            found.append(Detected("template", rel, f"{rel} (a CloudFormation template)"))
    for name in SERVERLESS_FILES:
        if (folder / name).is_file():
            found.extend(_serverless(folder, name))
            break
    return found


def _serverless(folder: Path, name: str) -> list[Detected]:
    """A Serverless Framework service is its folder (`serverless = "."`): the source packages it
    with serverless@3, or reads the `.serverless/` a team already packaged."""
    return [Detected("serverless", Path("."), f"{name} (a Serverless Framework service)")]


def _declares_cloudformation(path: Path) -> bool:
    try:
        if path.stat().st_size > _MAX_TEMPLATE_BYTES:
            return False
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError:
            return False
        return isinstance(data, dict) and isinstance(data.get("Resources"), dict) and (
            "AWSTemplateFormatVersion" in data or any(
                isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::") for r in data["Resources"].values()))
    return bool(_CFN_MARKERS.search(text)) and re.search(r"^Resources\s*:", text, re.MULTILINE) is not None


__all__ = ["Detected", "detect_sources"]
