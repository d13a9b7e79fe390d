#!/usr/bin/env python3
"""CDK app entry point (`cdk.json`: "python3 app.py"); also run directly by harness/deploy/synth.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aws_cdk as cdk  # noqa: E402

from nag import apply_nag  # noqa: E402
from pipeline_stack import PipelineStack  # noqa: E402
from settings import ContextError, settings_from_context  # noqa: E402


def main() -> int:
    # Asset metadata tells the local applier where each function's code was staged; the CLI
    # turns it on by default, a direct `python app.py` run does not.
    app = cdk.App(analytics_reporting=False, post_cli_context={"aws:cdk:enable-asset-metadata": True})
    try:
        settings = settings_from_context(app.node.try_get_context)
    except ContextError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stack = PipelineStack(app, settings.stack_name, settings, stack_name=settings.stack_name,
                          description="DynamoDB Streams -> Lambda failure-handling pipeline (resilience harness)")
    # AwsSolutions checks: an unacknowledged finding fails synthesis (see nag.py for every reason).
    apply_nag(app, stack)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
