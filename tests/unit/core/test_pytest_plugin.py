"""The plugin's deployed_stack fixture: a pipeline that fails to start is still stopped."""

from __future__ import annotations

import pytest

from harness.pipeline import LocalPipeline


class _Part:
    stopped = False

    def stop(self) -> None:
        self.stopped = True


def test_parts_started_before_a_failed_start_are_stopped(deployed_stack, _shardproof_stack_state, monkeypatch) -> None:
    part = _Part()

    def failing_start(self: LocalPipeline) -> LocalPipeline:
        self.runtime = part  # a worker pool that started before something else failed
        raise RuntimeError("lambda api port in use")

    monkeypatch.setattr(LocalPipeline, "start", failing_start)
    with pytest.raises(RuntimeError, match="port in use"):
        deployed_stack({})
    _shardproof_stack_state.close()  # what the fixture's teardown does
    assert part.stopped
