"""Replay targets: the consumer function, the source table, an SQS queue, a Kinesis stream."""

from harness.replay.targets.base import Outcome, ReplayTarget, TargetError, Verdict
from harness.replay.targets.consumer import ConsumerTarget
from harness.replay.targets.kinesis import KinesisTarget
from harness.replay.targets.sqs import SqsTarget
from harness.replay.targets.table import REMOVE_RULES, TableTarget

__all__ = ["ConsumerTarget", "KinesisTarget", "Outcome", "REMOVE_RULES", "ReplayTarget", "SqsTarget", "TableTarget",
           "TargetError", "Verdict"]
