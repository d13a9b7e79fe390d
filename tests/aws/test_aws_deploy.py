"""`shardproof deploy --backend aws` against a real account (opt-in: HARNESS_AWS_TESTS=1, credentials,
Node.js for npx). Deploys a throwaway per-run stack, checks CloudFormation says it is complete with
the resources the local synth printed, then destroys it whatever happened.

Never run on the development machines (no credentials there); what it checks offline is covered by
tests/unit/backends/test_cli_deploy.py.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from harness import cli
from harness.backends.aws import CDK_WORKDIR, AwsBackend, cdk_destroy_command, per_run_stack_name

pytestmark = pytest.mark.aws


def test_deploy_creates_the_stack_with_the_synthesized_resources(capsys: pytest.CaptureFixture[str]) -> None:
    backend = AwsBackend(region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    name = per_run_stack_name()
    try:
        assert cli.main(["deploy", "--backend", "aws", "--stack-name", name]) == 0
        printed = capsys.readouterr().out
        cfn = backend.client("cloudformation")
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), stack["StackStatus"]
        deployed = {r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]}
        listed = {line.split()[0] for line in printed.split("resources (", 1)[1].split("command (", 1)[0].splitlines()[1:]
                  if line.strip()}
        assert listed <= deployed, sorted(listed - deployed)
    finally:
        subprocess.run(cdk_destroy_command(name), cwd=CDK_WORKDIR, check=False)
