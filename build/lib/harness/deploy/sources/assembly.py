"""`assembly`: an already synthesized cloud assembly (`cdk.out`), nested Stage assemblies included.

A CDK Stage writes its stacks into a nested assembly: the parent manifest lists it as a
`cdk:cloud-assembly` artifact whose `properties.directoryName` is its folder, relative to the
parent. Asset paths (`Metadata["aws:asset:path"]`, `*.assets.json` `source.path`) are relative to
the folder that holds the stack's template, so that folder is the result's `assembly_dir`.

The CDK app source reuses `list_stacks` / `select_stack` / `load_stack` on the assembly it synthesized.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from harness.deploy.sources.base import SourceError, SourceSpec, SynthResult, display_path, refuse_context

KIND = "assembly"
MANIFEST = "manifest.json"
STACK_TYPE = "aws:cloudformation:stack"
NESTED_TYPE = "cdk:cloud-assembly"
MAX_NESTING = 8  # Stages inside Stages; deeper is a loop in a hand-written manifest


@dataclass(frozen=True)
class StackArtifact:
    """One stack of an assembly, wherever it is nested."""

    artifact_id: str
    stack_name: str
    display_name: str  # the construct path, e.g. "Prod/Pipeline"; the artifact id when the manifest has none
    template_file: Path  # absolute
    nested: str | None  # the nested assembly's folder relative to the top one, e.g. "assembly-Prod"; None: top level

    @property
    def directory(self) -> Path:
        """The folder asset paths of this stack are relative to."""
        return self.template_file.parent

    def describe(self) -> str:
        where = f"in nested assembly {self.nested}" if self.nested else "top level"
        return f"{self.stack_name} (artifact {self.artifact_id}, {where})"


def read_manifest(folder: Path, *, error: type[SourceError] = SourceError) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{display_path(folder)} is not a cloud assembly: {MANIFEST} is missing") from None
    except OSError as exc:
        raise error(f"cannot read {display_path(path)}: {exc}") from None
    except ValueError as exc:
        raise error(f"{display_path(path)} is not JSON: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("artifacts", {}), dict):
        raise error(f"{display_path(path)}: 'artifacts' must be an object")
    return manifest


def list_stacks(top: Path, *, error: type[SourceError] = SourceError) -> list[StackArtifact]:
    """Every stack of the assembly at `top` and of the assemblies nested in it, in manifest order."""
    top = Path(top).resolve()
    stacks: list[StackArtifact] = []
    _collect(top, top, 0, stacks, error)
    return stacks


def _collect(top: Path, folder: Path, depth: int, out: list[StackArtifact], error: type[SourceError]) -> None:
    manifest = read_manifest(folder, error=error)
    nested = None
    if folder != top:
        nested = folder.relative_to(top).as_posix() if folder.is_relative_to(top) else str(folder)
    for art_id, art in manifest.get("artifacts", {}).items():
        if not isinstance(art, dict):
            raise error(f"{display_path(folder / MANIFEST)}: artifact {art_id} must be an object")
        props = art.get("properties") or {}
        if art.get("type") == STACK_TYPE:
            template_file = props.get("templateFile")
            if not isinstance(template_file, str):
                raise error(f"stack {art_id} in the cloud assembly {display_path(folder)} names no templateFile")
            out.append(StackArtifact(
                artifact_id=art_id,
                stack_name=str(props.get("stackName") or art_id),
                display_name=str(art.get("displayName") or art_id),
                template_file=(folder / template_file).resolve(),
                nested=nested,
            ))
        elif art.get("type") == NESTED_TYPE:
            directory = props.get("directoryName")
            if not isinstance(directory, str):
                raise error(f"nested assembly {art_id} in {display_path(folder / MANIFEST)} names no directoryName")
            if depth + 1 > MAX_NESTING:
                raise error(f"nested assembly {art_id} in {display_path(folder)} is nested more than "
                            f"{MAX_NESTING} deep (a loop?)")
            _collect(top, (folder / directory).resolve(), depth + 1, out, error)


def select_stack(stacks: list[StackArtifact], wanted: str | None, where: str, *,
                 error: type[SourceError] = SourceError) -> StackArtifact:
    """The stack `wanted` names (stack name, artifact id or construct path), or the only one."""
    if not stacks:
        raise error(f"{where} holds no stack")
    if wanted is None:
        if len(stacks) == 1:
            return stacks[0]
        raise error(f"{where} holds {len(stacks)} stacks; choose one with --stack (or `stack` in the project "
                    f"file): {_listing(stacks)}")
    matches = [s for s in stacks if wanted in (s.stack_name, s.artifact_id, s.display_name)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise error(f"{where} has no stack {wanted!r}; its stacks: {_listing(stacks)}")
    raise error(f"{where}: {wanted!r} names {len(matches)} stacks; use an artifact id: {_listing(matches)}")


def _listing(stacks: list[StackArtifact]) -> str:
    return "; ".join(s.describe() for s in stacks)


def load_stack(stack: StackArtifact, *, error: type[SourceError] = SourceError) -> dict[str, Any]:
    path = stack.template_file
    try:
        template = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"stack {stack.stack_name}: its template {display_path(path)} is missing") from None
    except OSError as exc:
        raise error(f"stack {stack.stack_name}: cannot read {display_path(path)}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise error(f"{display_path(path)}, line {exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(template, dict):
        raise error(f"{display_path(path)}: a template must be a JSON object")
    return template


class AssemblySource:
    accepts_context = False

    def __init__(self, spec: SourceSpec, *, cache_dir: Path | None = None) -> None:
        path = Path(spec.path)
        if path.is_file() and path.name == MANIFEST:  # pointing at the manifest is as good as its folder
            path = path.parent
        if not path.is_dir():
            raise SourceError(f"cloud assembly {display_path(path)}: no such folder")
        if not (path / MANIFEST).is_file():
            raise SourceError(f"{display_path(path)} is not a cloud assembly: {MANIFEST} is missing")
        self.spec = SourceSpec(KIND, path.resolve(), spec.stack, spec.watch)

    def label(self) -> str:
        return f"cloud assembly {display_path(self.spec.path)}"

    def synthesize(self, context: Mapping[str, object] | None = None) -> SynthResult:
        refuse_context(self.label(), context)
        stack = select_stack(list_stacks(self.spec.path), self.spec.stack, f"the {self.label()}")
        return SynthResult(template=load_stack(stack), assembly_dir=stack.directory, stack_name=stack.stack_name,
                           cached=False, source_label=self.label())
