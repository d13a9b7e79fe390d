"""Stack sources: where a stack's CloudFormation template comes from.

A team's stack reaches the harness in one of three shapes, each a module of this package
registered in KINDS (SOURCE_KINDS names them):

- `app` (cdk_app.py): a CDK app in any language (the `app` command of its `cdk.json`, run the way
  the CDK CLI runs it, with CDK_OUTDIR and CDK_CONTEXT_JSON; no CDK CLI needed), synthesized once
  per distinct content and context into a cache under `.harness/synth/` (synth_cache.py);
- `assembly` (assembly.py): an already synthesized cloud assembly (`cdk.out`), nested Stage
  assemblies included;
- `template` (template.py): a CloudFormation template (JSON or YAML, cfn_yaml.py), or a SAM
  template translated offline with aws-sam-translator (sam.py), its local `CodeUri` kept as the
  function's code directory.

Every source ends in the same `SynthResult` (template, the folder asset paths are relative to, the
stack name), so what follows (deploy, describe, lint, scenarios) never knows which it was.
Every problem with a source is a SourceError (SynthError, a failing CDK app, is one too).
The command-line options every command shares are in options.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from harness.deploy.sources.base import (
    SOURCE_KINDS,
    SourceError,
    SourceSpec,
    StackSource,
    SynthError,
    SynthResult,
)
from harness.deploy.sources.assembly import AssemblySource
from harness.deploy.sources.cdk_app import CdkAppSource
from harness.deploy.sources.template import TemplateSource

# kind -> constructor(spec, *, cache_dir); one entry per module, as resources/ registers resource types.
KINDS: dict[str, Callable[..., StackSource]] = {
    "app": CdkAppSource,
    "assembly": AssemblySource,
    "template": TemplateSource,
}
assert tuple(KINDS) == SOURCE_KINDS, "SOURCE_KINDS and KINDS must name the same kinds"


def open_source(spec: SourceSpec, *, cache_dir: Path | None = None) -> StackSource:
    """The StackSource for `spec`; SourceError when the path does not hold that kind of source.

    `cache_dir` is where a CDK app's synth cache lives (default: `<app>/.harness/synth`); the
    other kinds synthesize nothing and ignore it.
    """
    make = KINDS.get(spec.kind)
    if make is None:
        raise SourceError(f"unknown stack source kind {spec.kind!r}; expected one of {', '.join(SOURCE_KINDS)}")
    if spec.watch and spec.kind != "app":
        raise SourceError(f"{spec.kind} {spec.path}: `watch` applies to a CDK app only (nothing else is synthesized)")
    return make(spec, cache_dir=cache_dir)


__all__ = ["KINDS", "SOURCE_KINDS", "SourceError", "SourceSpec", "StackSource", "SynthError", "SynthResult",
           "open_source"]
