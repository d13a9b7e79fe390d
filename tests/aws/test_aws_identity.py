"""Against a real AWS account (opt-in: HARNESS_AWS_TESTS=1 and credentials in the environment)."""

from __future__ import annotations

import os

import pytest

from harness.backends.aws import AwsBackend

pytestmark = pytest.mark.aws


def test_sts_identity_answers_for_the_configured_credentials() -> None:
    backend = AwsBackend(region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    assert backend.healthy(), backend.describe().details
    account = backend.account_id
    assert account.isdigit() and len(account) == 12
    assert backend.describe().account_id == account
