"""Multi-shard simulate (spec 1 "Other shards continue", spec 8 parent before child)."""

from __future__ import annotations

from harness.esm import run_simulation

S3 = {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::failures"}}}


def test_shards_count_assigns_by_key_and_reports_shard_per_invocation_and_destination():
    out = run_simulation({"mapping": {"BatchSize": 10, "MaximumRetryAttempts": 0, **S3}, "shards": 3,
                          "records": 60, "handler": {"fail": [7]}})
    shards = {inv["shard"] for inv in out["invocations"]}
    assert len(shards) == 3
    by_shard: dict[str, list[int]] = {}
    for inv in out["invocations"]:
        by_shard.setdefault(inv["shard"], []).extend(inv["records"])
    assert all(v == sorted(v) for v in by_shard.values())  # each shard in order
    [d] = out["destination"]
    assert d["shard"] in shards and d["envelope"]["DDBStreamBatchInfo"]["shardId"] == d["shard"]
    assert f"/{d['shard']}/" in d["key"]
    assert sorted(out["processed"] + out["discarded"]) == list(range(60))


def test_spec1_a_blocked_shard_does_not_hold_back_the_others():
    """Shard 0 retries record 0 for a day (-1/-1 until retention); shard 1's records, arriving
    over an hour, are each processed within seconds of arrival on the shared virtual clock."""
    records = [{"$shard": 0}] + [{"$shard": 1} for _ in range(10)]
    out = run_simulation({"mapping": {"BatchSize": 1}, "shards": 2, "records": records,
                          "clock": {"record_interval_s": 360}, "handler": {"fail": [0]}})
    shard1 = [inv for inv in out["invocations"] if inv["shard"].endswith("02")]
    assert [inv["records"] for inv in shard1] == [[i] for i in range(1, 11)]
    assert out["processed"] == list(range(1, 11))
    assert out["trimmed"] == [0]  # spec 8: the poison record leaves only with the 24 h retention
    assert out["virtual_seconds"] >= 86400


def test_spec8_parent_shard_before_children():
    records = [{"$shard": "child-a"}, {"$shard": "root"}, {"$shard": "child-b"}, {"$shard": "root"}]
    out = run_simulation({"shards": [{"id": "root"}, {"id": "child-a", "parent": "root"},
                                     {"id": "child-b", "parent": 0}], "records": records})
    order = [inv["shard"] for inv in out["invocations"]]
    assert order[0] == "root" and set(order[1:]) == {"child-a", "child-b"}
    assert out["processed"] == [0, 1, 2, 3]


def test_records_without_shard_go_to_leaf_shards_only():
    out = run_simulation({"shards": [{}, {"parent": 0}, {"parent": 0}], "records": 30})
    assert not any(inv["shard"].endswith("01") for inv in out["invocations"])


def test_multishard_with_lanes_and_windows():
    pf = run_simulation({"mapping": {"ParallelizationFactor": 3}, "shards": 2, "records": 90, "keys": 12})
    assert pf["processed"] == list(range(90)) and {i["lane"] for i in pf["invocations"]} == {0, 1, 2}
    tw = run_simulation({"mapping": {"TumblingWindowInSeconds": 30}, "shards": 2, "records": 40,
                         "clock": {"start": 1_700_000_010, "record_interval_s": 2}, "handler": {"aggregate": "count"}})
    finals = [i for i in tw["invocations"] if i["final"]]
    assert {i["shard"] for i in finals} == {i["shard"] for i in tw["invocations"]}
    assert sum(f["state_out"]["count"] for f in finals) == 40  # every record counted in exactly one window
