"""Stack sources: where a stack's CloudFormation template comes from.

A team's stack reaches the harness in one of three shapes, each a module of this package
registered in SOURCE_KINDS:

- `app`: a CDK app in any language (the `app` command of its `cdk.json`, run the way the CDK CLI
  runs it, with CDK_OUTDIR and CDK_CONTEXT_JSON; no CDK CLI needed), synthesized once per distinct
  content and context into a cache under `.harness/synth/`;
- `assembly`: an already synthesized cloud assembly (`cdk.out`), nested Stage assemblies included;
- `template`: a CloudFormation template (JSON or YAML), or a SAM template translated offline with
  aws-sam-translator, its local `CodeUri` kept as the function's code directory.

Every source ends in the same `SynthResult` (template, the folder asset paths are relative to, the
stack name), so what follows (deploy, describe, lint, scenarios) never knows which it was.

INTERFACE PINNED, IMPLEMENTATION IN PROGRESS: `open_source` and the kind modules are being
written; until they land only the default CDK app (harness/deploy/synth.py) works.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Protocol

from harness.deploy.synth import SynthResult

SOURCE_KINDS = ("app", "assembly", "template")


class SourceError(ValueError):
    """A stack source that cannot be used: the message names the path, the stack or the file at fault."""


@dataclass(frozen=True)
class SourceSpec:
    """Which stack to use: a kind, a path, and the stack's name when the source holds several."""

    kind: str  # one of SOURCE_KINDS
    path: Path  # the app folder (holding cdk.json), the assembly folder, or the template file
    stack: str | None = None  # required when the source holds more than one stack
    watch: tuple[Path, ...] = ()  # app only: extra files/folders hashed into the synth cache key


class StackSource(Protocol):
    spec: SourceSpec
    accepts_context: bool  # only a CDK app takes CDK context (scenario `context`, `-c key=value`)

    def synthesize(self, context: Mapping[str, object] | None = None) -> SynthResult:
        """The stack's template; SourceError naming what is wrong (a failing app shows its stderr tail)."""
        ...

    def label(self) -> str:
        """How messages and reports name this source, e.g. "CDK app examples/powertools"."""
        ...


def open_source(spec: SourceSpec, *, cache_dir: Path | None = None) -> StackSource:
    """The StackSource for `spec`; SourceError when the path does not hold that kind of source."""
    raise NotImplementedError("UNFINISHED: stack sources are being implemented (issue 11)")


__all__ = ["SOURCE_KINDS", "SourceError", "SourceSpec", "StackSource", "SynthResult", "open_source"]
