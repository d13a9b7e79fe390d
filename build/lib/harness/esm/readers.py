"""Picks the shard reader a mapping needs, so the service and simulate never choose differently."""

from __future__ import annotations

from typing import Any

from harness.esm.clock import RealClock
from harness.esm.config import MappingConfig
from harness.esm.lanes import ParallelShardReader
from harness.esm.reader import ShardReader
from harness.esm.windowed_reader import WindowedShardReader


def make_reader(*, mapping: MappingConfig, **kw: Any) -> ShardReader:
    """ParallelizationFactor > 1 -> lanes; TumblingWindowInSeconds > 0 -> windows; else plain.
    (config.py refuses the two together.) Lanes invoke concurrently only on a real clock: on a
    virtual one invokes take no time, and one thread keeps a simulation deterministic."""
    if mapping.ParallelizationFactor > 1:
        return ParallelShardReader(mapping=mapping, concurrent=isinstance(kw.get("clock"), RealClock), **kw)
    if mapping.TumblingWindowInSeconds > 0:
        return WindowedShardReader(mapping=mapping, **kw)
    return ShardReader(mapping=mapping, **kw)
