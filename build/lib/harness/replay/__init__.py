"""List, inspect, filter and replay ESM failure records (issue 5).

Library entry points: `FailureStore` (harness.failures.store) to read a bucket, `Replayer` with one
of the targets (`ConsumerTarget`, `TableTarget`, `SqsTarget`, `KinesisTarget`) to replay (`ConsumerTarget`
takes any `harness.invoke.Invoker`, e.g. `harness.invoke.LambdaApiInvoker` for a real function). The
CLI lives in `harness.replay.cli`.
"""

from harness.replay.ledger import LEDGER_PREFIX, LedgerError, S3Ledger
from harness.replay.plan import REPLAY_MARKER, PlannedRecord, build_plan, item_key_of
from harness.replay.replayer import REPLAYED_TAG, RateLimiter, RecordResult, ReplayProgress, Replayer, ReplaySummary
from harness.replay.targets import (ConsumerTarget, KinesisTarget, Outcome, ReplayTarget, SqsTarget, TableTarget,
                                    TargetError, Verdict)

__all__ = [
    "ConsumerTarget", "KinesisTarget", "LEDGER_PREFIX", "LedgerError", "Outcome", "PlannedRecord",
    "REPLAYED_TAG", "REPLAY_MARKER", "RateLimiter", "RecordResult", "ReplayProgress", "ReplaySummary",
    "ReplayTarget", "Replayer", "S3Ledger", "SqsTarget", "TableTarget", "TargetError", "Verdict",
    "build_plan", "item_key_of",
]
