"""Failure records: the envelope model, key layouts and payload decoding (spec sections 3-4)."""

from harness.failures.keys import FailureKey, KeyLayoutError, parse_key
from harness.failures.store import FailureFilters, FailureStore, Listed, OwnershipError, StoreError
from harness.failures.model import (
    FailureEnvelope,
    FailureRecord,
    FailureRecordError,
    parse_failure_record,
)

__all__ = [
    "FailureEnvelope", "FailureKey", "FailureRecord", "FailureRecordError", "KeyLayoutError",
    "parse_failure_record", "parse_key",
    "FailureFilters", "FailureStore", "Listed", "OwnershipError", "StoreError",
]
