"""The table of stream kinds: a mapping's kind is chosen once, from its EventSourceArn.

Adding a stream kind is writing its module (a boto3 source plus a StreamKind, like
dynamodb_streams.py and kinesis.py) and adding that StreamKind here. The failure-record checks
(harness/failures/checks.py) keep their own small table of record shapes, because they ship
inside the failure-handler Lambda with the standard library only: add the kind's shape there too.
"""

from __future__ import annotations

from harness.esm.sources.dynamodb_streams import DYNAMODB
from harness.esm.sources.kind import StreamKind
from harness.esm.sources.kinesis import KINESIS

KINDS: dict[str, StreamKind] = {k.name: k for k in (DYNAMODB, KINESIS)}


def kind_for_arn(arn: object) -> StreamKind | None:
    """The kind whose ARN pattern matches, or None."""
    if not isinstance(arn, str):
        return None
    for kind in KINDS.values():
        if kind.arn_re.match(arn):
            return kind
    return None


def kind_named(name: str) -> StreamKind:
    """A kind by name ("dynamodb", "kinesis"); ValueError naming the known ones."""
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown stream kind {name!r}; known: {', '.join(KINDS)}") from None


def kind_of_record(record: object) -> StreamKind | None:
    """The kind whose record shape this is (its own sub-object: `dynamodb` or `kinesis`)."""
    if isinstance(record, dict):
        for kind in KINDS.values():
            if isinstance(record.get(kind.record_key), dict):
                return kind
    return None


__all__ = ["KINDS", "kind_for_arn", "kind_named", "kind_of_record"]
