"""Against a real LocalStack: it is up, it is what docker-compose.yml pins, and it stores data."""

from __future__ import annotations

import pytest

from harness.backends.localstack import REQUIRED_SERVICES

pytestmark = pytest.mark.docker


def test_health_reports_every_required_service_ready(localstack) -> None:
    assert localstack.healthy()
    caps = localstack.capabilities()
    for name in REQUIRED_SERVICES:
        assert caps.services.get(name) in ("available", "running"), (name, caps.services.get(name))


def test_capabilities_name_version_and_edition(localstack) -> None:
    caps = localstack.capabilities()
    assert caps.version and caps.version != "unknown"
    assert caps.edition in ("community", "pro", "enterprise", "base", "ultimate", "hobby"), caps.edition
    assert localstack.describe().details["capabilities"]["version"] == caps.version


def test_dynamodb_table_with_stream_round_trip(localstack, stream_round_trip) -> None:  # type: ignore[no-untyped-def]
    stream_round_trip(localstack, "health")


def test_sts_identity_is_localstack_default_account(localstack) -> None:
    assert localstack.client("sts").get_caller_identity()["Account"] == localstack.account_id
