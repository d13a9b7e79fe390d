"""`shardproof scenarios run --backend aws` against a real account (opt-in: HARNESS_AWS_TESTS=1, credentials,
Node.js for npx). Deploys one throwaway per-run stack per distinct context of the AWS-capable scenarios
with `cdk deploy` of infra/ unchanged, runs them against AWS's own ESM, records the real failure objects,
destroys the stacks, and deletes what RemovalPolicy.RETAIN left behind (the tables and the bucket).

Expect about 15-25 minutes (three deploys and destroys) and a few cents. Never run on the development
machines (no credentials there); tests/unit/scenarios/test_remote*.py check the same runner offline on
the embedded backend.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from harness.backends.aws import AwsBackend

pytestmark = pytest.mark.aws

REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _fixture_checks() -> Any:
    path = Path(__file__).resolve().parents[1] / "unit" / "failures" / "test_recorded_fixtures.py"
    spec = importlib.util.spec_from_file_location("recorded_fixture_checks", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _delete_retained(backend: AwsBackend, stacks: list[dict[str, Any]]) -> list[str]:
    """Only what this run's own stacks retained (names from their outputs); returns what failed."""
    problems = []
    for stack in stacks:
        for r in stack.get("retained", []):
            try:
                if r["kind"] == "table":
                    backend.client("dynamodb").delete_table(TableName=r["name"])
                else:
                    s3 = backend.client("s3")
                    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=r["name"]):
                        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                        if keys:
                            s3.delete_objects(Bucket=r["name"], Delete={"Objects": keys})
                    s3.delete_bucket(Bucket=r["name"])
            except Exception as exc:  # noqa: BLE001 - report every leftover, keep deleting the rest
                problems.append(f"{r['kind']} {r['name']}: {exc}")
    return problems


def test_the_aws_capable_scenarios_pass_on_aws_and_their_failure_objects_are_valid(tmp_path: Path) -> None:
    backend = AwsBackend(region=REGION)
    result_path = tmp_path / "result.json"
    recorded = Path(os.environ.get("HARNESS_RECORD_DIR") or tmp_path / "recorded")
    status = cli.main(["scenarios", "run", "--backend", "aws", "--region", REGION, "--stack-name", "HarnessAwsTest",
                       "--record", str(recorded), "--json", str(result_path)])
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    stacks = result.get("run", {}).get("stacks", [])
    try:
        assert result, f"no result JSON written (exit status {status})"
        assert {s["name"] for s in result["scenarios"]} == {
            "one-poison-bisect", "several-poison-bisect", "retry-exhaustion", "partial-batch-valid"}
        assert all(s["reason"] for s in result["skipped"])
        bad = {s["name"]: s["error"] or [c["name"] for c in s["checks"] if not c["passed"]]
               for s in result["scenarios"] if s["verdict"] != "pass"}
        assert not bad, bad
        assert status == 0
        assert [s["destroyed"] for s in stacks] == [True] * len(stacks)
        files = sorted(recorded.glob("*.json"))
        assert files, "no failure object was recorded"
        checks = _fixture_checks()
        for path in files:
            checks.assert_valid_recorded(path)
            checks.assert_redacted(path)
    finally:
        leftovers = _delete_retained(backend, stacks)
        assert not leftovers, f"delete these by hand: {leftovers}"
