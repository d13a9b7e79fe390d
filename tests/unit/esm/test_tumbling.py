"""TumblingWindowInSeconds (spec 7.1, DOC services-ddb-windows; [GAP] choices in tumbling.py)."""

from __future__ import annotations

from harness.esm import run_simulation
from harness.esm.tumbling import window_start
from harness.invoke import InvokeServiceError

S3 = {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::failures"}}}
T0 = 1_700_000_000  # a multiple of 10, so windows of 10 s start at T0


def state_ok(h, state):
    return h.ok({"state": state})


def test_spec7_1_windows_are_epoch_aligned_to_arrival():
    assert window_start(1_700_000_007.9, 10) == 1_700_000_000
    assert window_start(1_700_000_010, 10) == 1_700_000_010
    assert window_start(59, 60) == 0


def test_spec7_1_state_chain_and_final_invoke_per_window():
    out = run_simulation({"mapping": {"TumblingWindowInSeconds": 10, "BatchSize": 4}, "records": 25,
                          "clock": {"start": T0, "record_interval_s": 1}, "handler": {"aggregate": "count"}})
    by_window: dict[int, list[dict]] = {}
    for inv in out["invocations"]:
        by_window.setdefault(inv["window"]["start"], []).append(inv)
    assert sorted(by_window) == [T0, T0 + 10, T0 + 20]
    for start, invs in by_window.items():
        assert invs[0]["state_in"] == {}  # a fresh state at the window's start
        for a, b in zip(invs, invs[1:]):
            assert b["state_in"] == a["state_out"]  # the previous invoke's returned state
        assert [i["final"] for i in invs] == [False] * (len(invs) - 1) + [True]
        assert all(min(i["records"], default=start - T0) >= start - T0 for i in invs)  # never spans windows
    # Windows 1 and 2 closed by the clock with nothing left: an empty final invoke with the full count.
    for start in (T0, T0 + 10):
        last = by_window[start][-1]
        assert last["records"] == [] and last["state_in"] == {"count": 10} and not last["early"]
    # The shard ends at record 24 (t=24 < 30): the window closes early, with the records left.
    last = by_window[T0 + 20][-1]
    assert last["early"] and last["state_out"] == {"count": 5}
    assert out["processed"] == list(range(25))


def test_spec7_1_event_shape_and_final_invoke_carries_remaining_records(h):
    """An open shard: records at t=0..4 wait in a 300 s batching window; the window (10 s) closes
    at t=10 and its final invoke carries them all."""
    run = h.run({"TumblingWindowInSeconds": 10, "MaximumBatchingWindowInSeconds": 300}, 5,
                lambda idx, c: state_ok(h, {"n": len(idx)}), interval=1, close=False)
    [ev] = run.events
    assert list(ev) == ["Records", "window", "state", "shardId", "eventSourceARN", "isFinalInvokeForWindow",
                        "isWindowTerminatedEarly"]
    assert ev["window"] == {"start": "2023-11-14T22:13:20Z", "end": "2023-11-14T22:13:30Z"}
    assert (ev["shardId"], ev["eventSourceARN"], ev["state"]) == (h.SHARD, h.STREAM, {})
    assert ev["isFinalInvokeForWindow"] is True and ev["isWindowTerminatedEarly"] is False
    assert run.calls == [[0, 1, 2, 3, 4]]
    assert run.clock.now() >= h.START + 10


def test_spec7_1_response_without_state_is_a_failed_invocation(h):
    run = h.run({"TumblingWindowInSeconds": 60, "MaximumRetryAttempts": 1, **S3}, 2, lambda idx, c: h.ok(None))
    results = [e["outcome"] for e in run.journal.entries("invoke_result")]
    assert results[:2] == ["invalid_response", "invalid_response"]
    assert "no state property" in run.journal.entries("invoke_result")[0]["reason"]
    [env] = run.deliveries()
    assert env["responseContext"]["functionError"] is None and env["requestContext"]["approximateInvokeCount"] == 2


def test_spec7_1_retry_policies_apply_and_state_survives_failures(h):
    """ "Tumbling windows fully support the existing retry policies": a failing window batch is
    retried with the state of the last successful invoke, then discarded; the window still closes."""
    run = h.run({"TumblingWindowInSeconds": 60, "BatchSize": 1, "MaximumRetryAttempts": 2, **S3}, 3,
                lambda idx, c: h.unhandled() if 1 in idx else state_ok(h, {"k": c}))
    assert run.calls == [[0], [1], [1], [1], [2]]
    states = [ev["state"] for ev in run.events]
    assert states[1] == states[2] == states[3] == {"k": 1}  # retries keep the last good state
    assert states[4] == {"k": 1} and run.events[-1]["isFinalInvokeForWindow"] is True
    assert run.events[-1]["isWindowTerminatedEarly"] is True  # the shard ended inside the window
    [env] = run.deliveries()
    assert env["DDBStreamBatchInfo"]["startSequenceNumber"] == h.seq_of(1)
    assert env["requestContext"]["approximateInvokeCount"] == 3


def test_spec7_1_record_age_applies_to_window_batches():
    out = run_simulation({"mapping": {"TumblingWindowInSeconds": 900, "MaximumRecordAgeInSeconds": 60,
                                      "MaximumRetryAttempts": 0, **S3},
                          "records": 4, "clock": {"start": T0, "record_interval_s": 60, "start_delay_s": 200}})
    assert {d["condition"] for d in out["destination"]} == {"RecordAgeExceeded"}
    assert [i for d in out["destination"] for i in d["records"]] == [0, 1, 2]  # windows split the batches
    assert out["processed"] == [3]
    assert out["invocations"][-1]["final"]


def test_spec7_1_partial_batch_response_with_state():
    out = run_simulation({"mapping": {"TumblingWindowInSeconds": 60, "BatchSize": 4, "MaximumRetryAttempts": 5,
                                      "FunctionResponseTypes": ["ReportBatchItemFailures"]},
                          "records": 4, "handler": {"fail": [2], "mode": "partial", "fail_times": 1,
                                                    "aggregate": "count"}})
    first, second = out["invocations"][:2]
    assert first["result"] == "partial_failure" and first["state_out"] == {"count": 2}
    assert second["records"] == [2, 3] and second["state_in"] == {"count": 2}  # state adopted, suffix retried
    assert out["invocations"][-1]["state_out"] == {"count": 4}
    assert out["processed"] == [0, 1, 2, 3]


def test_spec7_1_child_shard_starts_a_fresh_window_state():
    out = run_simulation({"mapping": {"TumblingWindowInSeconds": 60}, "shards": [{}, {"parent": 0}],
                          "records": [{"$shard": 0}, {"$shard": 0}, {"$shard": 1}, {"$shard": 1}],
                          "clock": {"start": T0, "record_interval_s": 1}, "handler": {"aggregate": "count"}})
    parent = [i for i in out["invocations"] if i["shard"].endswith("01")]
    child = [i for i in out["invocations"] if i["shard"].endswith("02")]
    assert parent[-1]["final"] and parent[-1]["early"] and parent[-1]["state_out"] == {"count": 2}
    assert child[0]["state_in"] == {} and child[-1]["state_out"] == {"count": 2}
    assert out["invocations"].index(parent[-1]) < out["invocations"].index(child[0])  # spec 8


def test_spec7_1_state_over_1mb_terminates_the_window_early_then_fresh_state(h):
    big = {"blob": "x" * (1024 * 1024 + 10)}

    def respond(idx, c):
        return state_ok(h, big if c == 1 else {"c": c})

    run = h.run({"TumblingWindowInSeconds": 60, "BatchSize": 1}, 2, respond)
    flags = [(ev["isFinalInvokeForWindow"], ev["isWindowTerminatedEarly"], len(ev["Records"])) for ev in run.events]
    assert flags[:2] == [(False, False, 1), (True, True, 0)]  # the early close carries the big state
    assert run.events[1]["state"] == big
    assert run.events[2]["state"] == {} and len(run.events[2]["Records"]) == 1  # same window, fresh state
    assert run.events[2]["window"] == run.events[0]["window"]


def test_gap_empty_final_invoke_that_keeps_failing_is_abandoned(h):
    run = h.run({"TumblingWindowInSeconds": 60, "MaximumRetryAttempts": 1}, 1,
                lambda idx, c: state_ok(h, {}) if idx else h.unhandled(), close=False)
    assert run.calls == [[0], [], []]
    [ab] = run.journal.entries("window_abandoned")
    assert ab["reason"] == "retries exhausted" and ab["close"] == "final"
    assert run.deliveries() == [] and run.journal.entries("checkpoint")[-1]["sequence_number"] == h.seq_of(0)


def test_gap_service_error_on_window_invoke_is_not_counted(h):
    def respond(idx, c):
        if c == 1:
            return InvokeServiceError("throttled", throttled=True)
        return state_ok(h, {})

    run = h.run({"TumblingWindowInSeconds": 60, "MaximumRetryAttempts": 0}, 1, respond)
    assert run.calls[:2] == [[0], [0]] and run.deliveries() == []


def test_windowed_simulate_conserves_records_with_failures():
    out = run_simulation({"mapping": {"TumblingWindowInSeconds": 5, "BatchSize": 3, "MaximumRetryAttempts": 1,
                                      "BisectBatchOnFunctionError": True, **S3},
                          "records": 40, "clock": {"start": T0, "record_interval_s": 0.5},
                          "handler": {"fail": [3, 17, 30], "aggregate": "count"}})
    in_dest = sorted(i for d in out["destination"] for i in d["records"])
    assert in_dest == [3, 17, 30]
    assert sorted(out["processed"] + in_dest) == list(range(40))
    finals = [i for i in out["invocations"] if i["final"] and i["result"] == "success"]
    assert len(finals) == 4  # 40 records x 0.5 s = 20 s = four 5 s windows, each closed once
    assert sum(f["state_in"]["count"] + len(f["records"]) for f in finals) == 37
