"""Where the tool keeps its own state inside a project: one folder, `.harness/`, beside the project file.

Why one module: the synth cache, the address of a running `shardproof up` and anything added later
must agree on the folder, and the deploy layer (which builds synth caches) cannot ask the project
module for it without a cycle; both read it from here.
"""

from __future__ import annotations

from pathlib import Path

STATE_DIR = ".harness"
SYNTH_CACHE = "synth"  # inside the state folder
UP_STATE = "up.json"  # inside the state folder
REPLAY_LEDGER = "replay-ledger"  # inside the state folder: what was replayed from a queue, per target


def state_dir(root: Path) -> Path:
    """The tool's state folder of the project rooted at `root`."""
    return Path(root) / STATE_DIR


def synth_cache_dir(root: Path) -> Path:
    """Where synthesized templates are cached, one entry per distinct content and context."""
    return state_dir(root) / SYNTH_CACHE


def up_state_file(root: Path) -> Path:
    """Where a running `shardproof up` writes how to reach it."""
    return state_dir(root) / UP_STATE


def replay_ledger_dir(root: Path) -> Path:
    """Where replays from an SQS/SNS destination record what they replayed (the queue is the team's:
    nothing is written to it)."""
    return state_dir(root) / REPLAY_LEDGER


__all__ = ["REPLAY_LEDGER", "STATE_DIR", "SYNTH_CACHE", "UP_STATE", "replay_ledger_dir", "state_dir",
           "synth_cache_dir", "up_state_file"]
