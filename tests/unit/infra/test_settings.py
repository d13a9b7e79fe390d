"""Context parsing: documented defaults, CLI strings accepted, bad values named."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

# Loaded under a private name: a bare `settings` module could collide with other test folders.
_spec = importlib.util.spec_from_file_location("_infra_settings", Path(__file__).resolve().parents[3] / "infra" / "settings.py")
assert _spec and _spec.loader
_settings = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _settings  # dataclasses look their module up while the class is built
_spec.loader.exec_module(_settings)
ContextError, PipelineSettings, settings_from_context = (
    _settings.ContextError, _settings.PipelineSettings, _settings.settings_from_context)


def test_defaults() -> None:
    s = settings_from_context({})
    assert s == PipelineSettings()
    assert (s.stack_name, s.batch_size, s.retry_attempts, s.bisect) == ("ResiliencePipeline", 10, 2, True)
    assert (s.max_record_age_seconds, s.report_batch_item_failures, s.parallelization_factor) == (3600, False, 1)


def test_cli_strings_and_json_types_are_accepted() -> None:
    s = settings_from_context({"batchSize": "100", "retryAttempts": 0, "bisect": "false",
                               "reportBatchItemFailures": "TRUE", "maxRecordAgeSeconds": 60.0,
                               "parallelizationFactor": "10", "stackName": "My-Stack2"})
    assert (s.batch_size, s.retry_attempts, s.bisect, s.report_batch_item_failures) == (100, 0, False, True)
    assert (s.max_record_age_seconds, s.parallelization_factor, s.stack_name) == (60, 10, "My-Stack2")


@pytest.mark.parametrize(
    "key, value, expect",
    [
        ("batchSize", 0, "1..10000"),
        ("batchSize", 10001, "1..10000"),
        ("batchSize", "ten", "integer"),
        ("batchSize", True, "boolean"),
        ("retryAttempts", -2, "-1 or 0..10000"),
        ("retryAttempts", 1.5, "integer"),
        ("maxRecordAgeSeconds", 59, "60..604800"),
        ("maxRecordAgeSeconds", 604801, "60..604800"),
        ("parallelizationFactor", 11, "1..10"),
        ("bisect", "yes", "true or false"),
        ("reportBatchItemFailures", 1, "true or false"),
        ("stackName", "1stack", "stack name"),
        ("stackName", "has_underscore", "stack name"),
    ],
)
def test_invalid_values_name_the_key(key: str, value: object, expect: str) -> None:
    with pytest.raises(ContextError) as err:
        settings_from_context({key: value})
    assert repr(key) in str(err.value) and expect in str(err.value)


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(ContextError) as err:
        settings_from_context({"batchSize": 0, "bisect": "maybe"})
    assert "'batchSize'" in str(err.value) and "'bisect'" in str(err.value)


def test_retry_attempts_accepts_infinite() -> None:
    # Spec 1: MaximumRetryAttempts -1 means infinite; CDK 2.275 accepts it too.
    assert settings_from_context({"retryAttempts": -1}).retry_attempts == -1
    assert settings_from_context({"retryAttempts": "-1"}).retry_attempts == -1


def test_auto_replay_waits_must_fit_the_handler_timeout() -> None:
    with pytest.raises(ContextError, match="autoReplayMaxAttempts x autoReplayDelaySeconds must be at most 50"):
        settings_from_context({"autoReplay": True, "autoReplayMaxAttempts": 6, "autoReplayDelaySeconds": 10})
    assert settings_from_context({"autoReplay": True}).auto_replay_max_attempts == 2
