"""`template`: a CloudFormation template file (JSON or YAML), or a SAM template translated offline.

The template's folder is the result's `assembly_dir`: relative asset paths in it are relative to
that folder, and a SAM `CodeUri` is relative to it too (sam.py). A template holds one stack; its
name is `stack` when given, else the file's name (the folder's name for the conventional
`template.yaml` / `template.json`, which names nothing).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

import yaml

from harness.deploy.sources import sam
from harness.deploy.sources.base import SourceError, SourceSpec, SynthResult, display_path, refuse_context
from harness.deploy.sources.cfn_yaml import load_yaml

KIND = "template"
GENERIC_NAMES = frozenset({"template", "packaged", "cfn", "cloudformation", "stack"})


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} appears twice in one object")
        out[key] = value
    return out


def read_template(path: Path) -> dict[str, Any]:
    """The template in `path`; SourceError naming the file and the line when it is malformed."""
    where = display_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{where}: not a text file (expected a JSON or YAML template)") from None
    except OSError as exc:
        raise SourceError(f"cannot read template {where}: {exc}") from None
    if Path(path).suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{where}, line {exc.lineno}: not valid JSON: {exc.msg}") from None
        except ValueError as exc:
            raise SourceError(f"{where}: {exc}") from None
    else:
        try:
            data = load_yaml(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = f", line {mark.line + 1}" if mark is not None else ""
            problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
            raise SourceError(f"{where}{line}: not valid YAML: {problem}") from None
        except yaml.YAMLError as exc:
            raise SourceError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SourceError(f"{where}: a template must be a mapping at the top level, not {type(data).__name__}")
    if not isinstance(data.get("Resources"), dict) or not data["Resources"]:
        raise SourceError(f"{where}: Resources must be a non-empty mapping (is this a CloudFormation template?)")
    return data


def default_stack_name(path: Path) -> str:
    """A valid stack name ([A-Za-z][-A-Za-z0-9]*) from the file name, or its folder's for `template.yaml`."""
    path = Path(path).resolve()
    base = path.parent.name if path.stem.lower() in GENERIC_NAMES and path.parent.name else path.stem
    name = re.sub(r"[^A-Za-z0-9-]+", "-", base).strip("-")
    if not name or not name[0].isalpha():
        name = f"Stack-{name}".rstrip("-")
    return name[:128]


class TemplateSource:
    accepts_context = False

    def __init__(self, spec: SourceSpec, *, cache_dir: Path | None = None) -> None:
        path = Path(spec.path)
        if not path.is_file():
            raise SourceError(f"template {display_path(path)}: no such file")
        self.spec = SourceSpec(KIND, path.resolve(), spec.stack, spec.watch)

    def label(self) -> str:
        return f"template {display_path(self.spec.path)}"

    def synthesize(self, context: Mapping[str, object] | None = None) -> SynthResult:
        refuse_context(self.label(), context)
        template = read_template(self.spec.path)
        notes: tuple[str, ...] = ()
        label = self.label()
        if sam.transforms(template):
            sam.refuse_transforms(template, display_path(self.spec.path))
            label = f"SAM {label}"
            template, notes = sam.translate(template, base_dir=self.spec.path.parent,
                                            where=display_path(self.spec.path))
        return SynthResult(template=template, assembly_dir=self.spec.path.parent,
                           stack_name=self.spec.stack or default_stack_name(self.spec.path),
                           cached=False, source_label=label, notes=notes)
