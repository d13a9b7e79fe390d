"""A lint finding and the rules that produce them, each with its spec section and its consequence.

The rule's consequence is written once, here, in plain words, so `shardproof lint`, the report and
`lint_run` all say the same thing about the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass

WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    spec_section: str
    consequence: str


UNBOUNDED_RETRIES = Rule(
    "unbounded-retries",
    "infinite retries with no record age limit",
    "§1, §8, §10",
    "one record the function cannot process blocks its whole shard until the record leaves the stream: up to "
    "24 hours on DynamoDB Streams, up to the stream's retention on Kinesis (24 hours by default, up to 365 days); "
    "nothing behind it on that shard is processed meanwhile",
)
NO_DESTINATION = Rule(
    "no-on-failure-destination",
    "no on-failure destination",
    "§1 (end of retries), §3",
    "when retries end, the failed batch is discarded and lost: no record of it is kept anywhere",
)
S3_WITHOUT_RESOURCE_ACCOUNT = Rule(
    "s3-destination-without-resource-account",
    "S3 destination writable without an s3:ResourceAccount condition",
    "§5",
    "if the bucket is ever deleted and someone re-creates a bucket of the same name in another account, the "
    "failure records, with their full payload, are written to that account",
)
FIFO_DESTINATION = Rule(
    "fifo-destination",
    "FIFO queue or topic as the on-failure destination",
    "§3.1",
    "AWS fails every delivery to a FIFO queue or topic (it counts DestinationDeliveryFailures), so the failed "
    "records are lost",
)
IGNORED_BATCH_ITEM_FAILURES = Rule(
    "ignored-batch-item-failures",
    "the function reports batchItemFailures but the mapping ignores them",
    "§2.2",
    "without ReportBatchItemFailures the mapping ignores the failures the function reports, so the records it "
    "reports as failed are acknowledged as processed: never retried, never sent to the destination",
)
PARTIAL_WITHOUT_BISECT = Rule(
    "partial-batch-without-bisect",
    "partial batch responses without bisect on batches larger than 1",
    "§2.2, §0.3",
    "every retry re-delivers all the records after the first failed one, so records that succeeded are "
    "processed again, and when retries run out they end in the failure record together with the poison",
)
RULES = (UNBOUNDED_RETRIES, NO_DESTINATION, S3_WITHOUT_RESOURCE_ACCOUNT, FIFO_DESTINATION,
         IGNORED_BATCH_ITEM_FAILURES, PARTIAL_WITHOUT_BISECT)


@dataclass(frozen=True)
class Finding:
    """One warning about one mapping. `observed` is set by `lint_run`: how many times the run
    showed the problem (re-deliveries, or invocations whose reported failures were ignored)."""

    rule: str
    severity: str
    mapping: str  # the mapping's logical id (lint_run: the id it was given, else the mapping UUID)
    message: str
    consequence: str
    spec_section: str
    observed: int | None = None


def finding(rule: Rule, mapping: str, message: str, observed: int | None = None) -> Finding:
    return Finding(rule=rule.id, severity=WARNING, mapping=mapping, message=message,
                   consequence=rule.consequence, spec_section=rule.spec_section, observed=observed)
