"""cdk-nag AwsSolutions on infra/: synthesis passes only with every finding acknowledged, and every
acknowledgment carries a reason and still matches a finding.

The template-level checks (s3:ResourceAccount, encryption, SSL, public access) live in
tests/unit/infra/test_template.py; this file adds only what cdk-nag itself reports.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest

from harness.deploy.synth import SynthError, SynthResult, default_project_root, synthesize

ROOT = default_project_root()


def _declared() -> set[tuple[str, str]]:
    """(path, rule) of every acknowledgment in infra/nag.py, read without importing aws_cdk
    (that would start a jsii/node kernel in the test process): only its plain assignments run."""
    tree = ast.parse((ROOT / "infra" / "nag.py").read_text())
    ns: dict = {}
    body = [n for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))]
    exec(compile(ast.Module(body=body, type_ignores=[]), "infra/nag.py", "exec"), ns)  # noqa: S102 - our own file
    return {(path, rule) for path, rule, _ in ns["ACKNOWLEDGED"] + ns["RUNTIME_PINNED"]}


def _report(result: SynthResult) -> dict:
    path = result.assembly_dir / "validation-report.json"
    assert path.is_file(), f"cdk-nag did not run: no {path.name} in the assembly"
    [plugin] = [p for p in json.loads(path.read_text())["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    return plugin


@pytest.fixture(scope="module")
def synthesized() -> list[SynthResult]:
    # The project's own synth cache: the assembly (validation report included) is what deploy uses.
    # The default stack, and one with every ESM option away from its default (other resources may appear).
    return [synthesize(None),
            synthesize({"batchSize": 25, "retryAttempts": -1, "reportBatchItemFailures": True,
                        "parallelizationFactor": 2, "maxRecordAgeSeconds": 600})]


def test_no_unacknowledged_awssolutions_findings(synthesized: list[SynthResult]) -> None:
    for result in synthesized:
        report = _report(result)
        assert report["conclusion"] == "success", report["violations"]
        assert report["violations"] == []


def test_every_acknowledgment_has_a_reason_and_matches_a_finding(synthesized: list[SynthResult]) -> None:
    report = _report(synthesized[0])
    used = {(s["acknowledgedAt"].split("/", 1)[1], s["acknowledgedId"]) for s in report["suppressedViolations"]}
    for s in report["suppressedViolations"]:
        assert len(s["reason"]) >= 60, f"{s['acknowledgedId']} at {s['acknowledgedAt']}: reason too thin: {s['reason']!r}"
    stale = _declared() - used
    assert not stale, f"acknowledgments that match no finding any more (delete them): {sorted(stale)}"


def test_template_carries_no_nag_metadata(synthesized: list[SynthResult]) -> None:
    """Acknowledgments stay in construct metadata: what is deployed is what it was before cdk-nag."""
    text = json.dumps(synthesized[0].template)
    assert "cdk_nag" not in text and "AwsSolutions" not in text


@pytest.mark.timeout(120)
def test_an_unacknowledged_finding_fails_synthesis(tmp_path: Path) -> None:
    """Proves the gate: drop one acknowledgment (S1 on the failure bucket) and synth must refuse.

    Slow (a cold synth, ~5 s): it is the only evidence that the checks above could fail at all.
    """
    from harness.deploy.synth import HASHED_DIRS  # everything synthesis reads

    for top in HASHED_DIRS:
        if (ROOT / top).is_dir():
            shutil.copytree(ROOT / top, tmp_path / top, ignore=shutil.ignore_patterns("__pycache__", "cdk.out"))
        else:
            (tmp_path / top).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / top, tmp_path / top)
    nag_py = tmp_path / "infra" / "nag.py"
    text = nag_py.read_text()
    marker = '("FailureBucket/Resource", PACK + "AwsSolutions-S1",'
    assert marker in text
    nag_py.write_text(text.replace(marker, '("FailureBucket/Resource", PACK + "AwsSolutions-S1-not-this-one",'))
    with pytest.raises(SynthError) as err:
        synthesize(None, project_root=tmp_path, cache_dir=tmp_path / "cache")
    assert "Validation failed" in str(err.value) or "AwsSolutions-S1" in str(err.value)
