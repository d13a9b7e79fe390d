"""`records: N` simulations make each record when a batch reads it (bounded memory over long
streams). These tests hold that path to the item-list path record for record: the same batches,
retries, bisect splits, failure records, record ages and metrics (spec 1, 2.1, 3, 6, 8, 10)."""

from __future__ import annotations

import json
import re

import pytest

from harness.esm import run_simulation
from harness.esm.records import make_record
from harness.esm.sources.memory import GeneratedRecords, MemoryStreamSource

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/simulated"
BASE = {"mapping": {"BatchSize": 10, "MaximumRetryAttempts": 2, "BisectBatchOnFunctionError": True,
                    "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::failures"}}},
        "records": 240, "handler": {"fail": [3, 50, 239], "mode": "raise"}}


def _listed(spec: dict) -> dict:
    """The same stream written out as items, as a scenario would give it."""
    n, keys = spec["records"], spec.get("keys")
    key = (lambda i: f"item-{i % keys}") if keys else (lambda i: f"item-{i}")
    if spec.get("source") == "kinesis":
        items = [{"partitionKey": key(i), "data": {"id": i}} for i in range(n)]
    else:
        items = [{"id": i, **({"$key": key(i)} if keys else {})} for i in range(n)]
    return {**spec, "records": items}


def _text(result: dict) -> str:
    # Failure-record keys and request ids carry random UUIDs on either path.
    return UUID.sub("U", json.dumps(result, sort_keys=True, default=str))


@pytest.mark.parametrize("extra", [
    pytest.param({}, id="one-shard-bisect-spec-2.1"),
    pytest.param({"shards": 3, "keys": 7}, id="shards-routed-by-key-spec-8"),
    pytest.param({"clock": {"record_interval_s": 2.5},
                  "mapping": {**BASE["mapping"], "MaximumRecordAgeInSeconds": 60,
                              "MaximumBatchingWindowInSeconds": 5}}, id="record-age-and-window-spec-1-7.1"),
    pytest.param({"mapping": {**BASE["mapping"], "ParallelizationFactor": 3}, "keys": 20}, id="lanes-spec-7.1"),
    pytest.param({"mapping": {"MaximumRetryAttempts": -1}, "clock": {"record_interval_s": 600}},
                 id="unbounded-retries-trimmed-by-retention-spec-8"),
    pytest.param({"source": "kinesis", "shards": 4, "mapping": {**BASE["mapping"], "EventSourceArn": KINESIS_ARN}},
                 id="kinesis-spec-10"),
])
def test_counted_records_simulate_as_the_listed_items(extra: dict) -> None:
    spec = {**BASE, **extra}
    assert _text(run_simulation(spec)) == _text(run_simulation(_listed(spec)))


def test_generated_shard_refuses_appends_and_reads_positions_in_order() -> None:
    """A generated shard is read like any other (spec 8: per-shard order), and is complete as given."""
    source = MemoryStreamSource("arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000")
    source.add_shard("s1")
    made: list[int] = []

    def make(i: int) -> dict:
        made.append(i)
        return make_record(sequence_number=str(100 + i), arrival_s=0.0, new_image={"id": {"N": str(i)}},
                           keys={"id": {"N": str(i)}}, stream_arn=source.stream_arn, region="us-east-1",
                           event_id=str(i))

    positions = [0, 2, 5]
    source.set_generated("s1", GeneratedRecords(positions, make), [100, 102, 105], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="generated records"):
        source.append("s1", [])
    source.close_shard("s1")
    cursor = source.open("s1", starting_position="TRIM_HORIZON")
    first, done = cursor.read(2)
    assert [r["eventID"] for r in first] == ["0", "2"] and not done
    assert made == [0, 2]  # nothing is made before a read asks for it
    again = source.open("s1", starting_position="TRIM_HORIZON", after_sequence="102")
    rest, done = again.read(10)
    assert [r["eventID"] for r in rest] == ["5"] and done
