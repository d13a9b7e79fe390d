"""Translate a SAM template into CloudFormation offline, with aws-sam-translator, keeping local code.

CloudFormation runs the `AWS::Serverless-2016-10-31` transform in the cloud; here the same
library runs locally, with no AWS call and no credentials. What it would look up is stubbed:
- the region (and so the partition) is SAM_REGION; the translator writes most ARNs with
  `${AWS::Region}` / `${AWS::Partition}`, which the deployer resolves, but ARNs of AWS managed
  policies it writes literally, with the partition of SAM_REGION (`aws`);
- AWS managed policies named by name (`Policies: [AmazonS3ReadOnlyAccess]`) come from the map the
  library bundles; a name not in it is kept as written (IAM is never asked);
- a Serverless Application Repository application (`AWS::Serverless::Application` with an
  `ApplicationId`) would need the repository's API: it is refused.
The library also sets its process-wide `ArnGenerator.BOTO_SESSION_REGION_NAME` to SAM_REGION.

A local `CodeUri` (function) or `ContentUri` (layer), directly or through `Globals.Function`, is
what `sam build` / `sam deploy` would zip and upload. The translator accepts only S3 locations,
so each is replaced by a placeholder S3 location before translation, and the translated
`AWS::Lambda::Function` / `AWS::Lambda::LayerVersion` gets `Metadata["aws:asset:path"]` = the
absolute code folder, where the deployer looks for a CDK asset's code.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.deploy.sources.base import SourceError

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
SAM_REGION = "us-east-1"
PLACEHOLDER_BUCKET = "harness-local-code"  # never created: the deployer takes the code from aws:asset:path
FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"
APPLICATION = "AWS::Serverless::Application"
STUB_NOTE = (f"SAM translated offline: region stubbed as {SAM_REGION} (partition aws) for the ARNs the "
             "translator writes literally; AWS managed policy names resolved from aws-sam-translator's "
             "bundled map only (IAM not called; unknown names kept as written)")


@dataclass(frozen=True)
class _OfflineSession:
    """All the translator reads of its boto3 session is the region name."""

    region_name: str = SAM_REGION


def transforms(template: dict[str, Any]) -> list[Any]:
    value = template.get("Transform")
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def is_sam(template: dict[str, Any]) -> bool:
    return SAM_TRANSFORM in transforms(template)


def refuse_transforms(template: dict[str, Any], where: str) -> None:
    """Transforms other than SAM's run only inside CloudFormation; an unexpanded one would deploy
    something other than what AWS deploys, so it is an error rather than a silent difference."""
    others = [t for t in transforms(template) if t != SAM_TRANSFORM]
    if others:
        names = ", ".join(map(str, others))
        raise SourceError(f"{where}: Transform {names} cannot be expanded offline; only {SAM_TRANSFORM} can")


def translate(template: dict[str, Any], *, base_dir: Path, where: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The CloudFormation template and the notes on what translation did that the result does not show."""
    refuse_transforms(template, where)
    sam = copy.deepcopy(template)
    resources = sam.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise SourceError(f"{where}: Resources must be a non-empty mapping")
    _refuse_repository_applications(resources, where)
    notes: list[str] = [STUB_NOTE]
    code = _localize_code(sam, Path(base_dir), where, notes)
    translated = _run_translator(sam, where)
    _attach_asset_paths(translated, code)
    return translated, tuple(notes)


def _refuse_repository_applications(resources: dict[str, Any], where: str) -> None:
    for lid, res in resources.items():
        if isinstance(res, dict) and res.get("Type") == APPLICATION:
            location = (res.get("Properties") or {}).get("Location")
            if isinstance(location, dict):
                raise SourceError(f"{where}: {lid} ({APPLICATION}) comes from the Serverless Application Repository, "
                                  "which cannot be reached offline")


def _ignores_global(resource: dict[str, Any], prop: str) -> bool:
    ignore = resource.get("IgnoreGlobals")
    return ignore == "*" or (isinstance(ignore, list) and prop in ignore)


def _is_local(uri: Any) -> bool:
    return isinstance(uri, str) and not uri.startswith("s3://")


def _local_path(base_dir: Path, uri: str, where: str, prop: str, notes: list[str]) -> Path:
    path = (base_dir / uri).resolve()
    if not path.exists():
        raise SourceError(f"{where}: {prop} {uri!r}: no such folder ({path})")
    if not path.is_dir():
        notes.append(f"{prop} {uri!r} is a file, not a folder: the local runtime needs the code unpacked")
    return path


def _localize_code(sam: dict[str, Any], base_dir: Path, where: str, notes: list[str]) -> dict[str, Path]:
    """Replace every local code location by a placeholder S3 location; returns placeholder key -> folder.

    `Globals.Function.CodeUri` gets a placeholder of its own, so which functions inherit it
    (`IgnoreGlobals`, a function's own `CodeUri` or `InlineCode`) stays the translator's decision.
    """
    code: dict[str, Path] = {}

    def localize(holder: dict[str, Any], prop: str, key: str, named: str) -> None:
        uri = holder.get(prop)
        if _is_local(uri):
            code[key] = _local_path(base_dir, uri, where, named, notes)
            holder[prop] = {"Bucket": PLACEHOLDER_BUCKET, "Key": key}

    global_fn = sam.get("Globals", {}).get("Function") if isinstance(sam.get("Globals"), dict) else None
    if isinstance(global_fn, dict):
        localize(global_fn, "CodeUri", "Globals/Function/CodeUri", "Globals.Function.CodeUri")
    for lid, res in sam["Resources"].items():
        if not isinstance(res, dict) or res.get("Type") not in (FUNCTION, LAYER):
            continue
        props = res.get("Properties")
        if not isinstance(props, dict):
            continue  # the translator names this error
        prop = "CodeUri" if res["Type"] == FUNCTION else "ContentUri"
        localize(props, prop, f"{lid}/{prop}", f"{lid}.{prop}")
        build = res.get("Metadata", {}).get("BuildMethod") if isinstance(res.get("Metadata"), dict) else None
        if build:
            notes.append(f"{lid}: Metadata.BuildMethod {build!r} is what `sam build` runs; "
                         "the harness uses its code folder as it is, unbuilt")
    return code


def _run_translator(sam: dict[str, Any], where: str) -> dict[str, Any]:
    # Imported here: the library loads its schemas and plugins, which only a SAM template needs.
    from samtranslator.model.exceptions import ExceptionWithMessage
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator(None, Parser(), boto_session=_OfflineSession())  # type: ignore[arg-type]
    try:
        return translator.translate(sam, parameter_values={}, get_managed_policy_map=dict)
    except ExceptionWithMessage as exc:
        causes = getattr(exc, "causes", None) or [exc]
        detail = "; ".join(str(getattr(c, "message", c)) for c in causes)
        raise SourceError(f"{where}: not a valid SAM template: {detail}") from None
    except Exception as exc:  # noqa: BLE001 - a translator crash on odd input is still the template's problem
        raise SourceError(f"{where}: SAM translation failed ({type(exc).__name__}: {exc})") from None
    finally:
        translator.metrics.publish()  # to its no-op publisher; unpublished metrics log a warning when collected


def _attach_asset_paths(template: dict[str, Any], code: dict[str, Path]) -> None:
    for res in (template.get("Resources") or {}).values():
        if not isinstance(res, dict):
            continue
        prop = {"AWS::Lambda::Function": "Code", "AWS::Lambda::LayerVersion": "Content"}.get(res.get("Type", ""))
        location = (res.get("Properties") or {}).get(prop) if prop else None
        if not isinstance(location, dict) or location.get("S3Bucket") != PLACEHOLDER_BUCKET:
            continue
        path = code.get(location.get("S3Key", ""))
        if path is not None:
            metadata = res.setdefault("Metadata", {})
            metadata["aws:asset:path"] = str(path)
            metadata["aws:asset:property"] = prop
