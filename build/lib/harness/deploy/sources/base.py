"""What every stack source shares: its spec, its errors and its result.

In a module of its own so that harness/deploy/synth.py (the sample's thin wrapper) and the kind
modules can import these without importing each other: `SynthResult` has always been importable
from harness.deploy.synth and still is (the same class, re-exported there).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol

SOURCE_KINDS = ("app", "assembly", "template")


class SourceError(ValueError):
    """A stack source that cannot be used: the message names the path, the stack or the file at fault."""


class SynthError(SourceError, RuntimeError):
    """A CDK app could not be synthesized; the message carries the command, its exit status and stderr tail.

    A SourceError (callers catch every source problem with one except) and still a RuntimeError, as
    it was before stack sources existed, so older `except RuntimeError` code keeps catching it.
    """


@dataclass(frozen=True)
class SourceSpec:
    """Which stack to use: a kind, a path, and the stack's name when the source holds several."""

    kind: str  # one of SOURCE_KINDS
    path: Path  # the app folder (holding cdk.json), the assembly folder, or the template file
    stack: str | None = None  # required when the source holds more than one stack
    watch: tuple[Path, ...] = ()  # app only: extra files/folders hashed into the synth cache key


@dataclass(frozen=True)
class SynthResult:
    """A stack's template, whatever source it came from.

    `template` is the stack's CloudFormation template as a dict. Every Lambda function built
    from an asset carries `Metadata["aws:asset:path"]`: the code directory, relative to
    `assembly_dir` (e.g. `asset.0d90...` in a CDK assembly) or absolute (a SAM `CodeUri`);
    `Metadata["aws:asset:property"]` is "Code" ("Content" for a layer).
    A CDK function's `Properties.Code` points at the CDK bootstrap bucket (`Fn::Sub cdk-hnb659fds-assets-...`),
    which only exists in a real bootstrapped account: a local applier should take the code
    from `assembly_dir / Metadata["aws:asset:path"]` instead. A CDK template also carries the
    bootstrap's `Parameters.BootstrapVersion` (an SSM parameter type) and `Rules.CheckBootstrapVersion`,
    which only `cdk deploy` needs. The CDK's own S3 notifications handler
    (`Custom::S3BucketNotifications`) has inline code (`Code.ZipFile`), no asset.

    `assembly_dir` is the folder asset paths are relative to: the (nested) assembly folder that
    holds the stack's template, or a template file's folder.
    `cached` is True when the result came from the synth cache without running the app; an
    assembly or a template is never synthesized, so it is always False for them.
    `source_label` names the source for messages and reports; `notes` says, in plain words, what
    the source did that the template alone does not show (e.g. what SAM translation stubbed).
    """

    template: dict[str, Any]
    assembly_dir: Path
    stack_name: str
    cached: bool
    source_label: str = ""
    notes: tuple[str, ...] = ()


class StackSource(Protocol):
    spec: SourceSpec
    accepts_context: bool  # only a CDK app takes CDK context (scenario `context`, `-c key=value`)

    def synthesize(self, context: Mapping[str, object] | None = None) -> SynthResult:
        """The stack's template; SourceError naming what is wrong (a failing app shows its stderr tail)."""
        ...

    def label(self) -> str:
        """How messages and reports name this source, e.g. "CDK app examples/powertools"."""
        ...


def display_path(path: Path) -> str:
    """`path` relative to the current folder when it is under it (shorter messages), else absolute."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except (ValueError, OSError):
        return str(path)


def refuse_context(label: str, context: Mapping[str, object] | None) -> None:
    """A source that is already synthesized cannot honour CDK context: say so rather than ignore it,
    or a scenario asking for `batchSize: 5` would silently run with the template's own value."""
    if context:
        keys = ", ".join(sorted(map(str, context)))
        raise SourceError(f"{label} takes no CDK context (it is already synthesized); got: {keys}")
