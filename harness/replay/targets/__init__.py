"""Replay targets: the consumer function, the source table, an SQS queue."""

from harness.replay.targets.base import Outcome, ReplayTarget, TargetError, Verdict
from harness.replay.targets.consumer import ConsumerTarget
from harness.replay.targets.sqs import SqsTarget
from harness.replay.targets.table import REMOVE_RULES, TableTarget

__all__ = ["ConsumerTarget", "Outcome", "REMOVE_RULES", "ReplayTarget", "SqsTarget", "TableTarget",
           "TargetError", "Verdict"]
