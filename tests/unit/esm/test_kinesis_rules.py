"""Spec 10: the Kinesis rules of the engine, on an in-memory Kinesis shard in virtual time, and the
AWS-observed Kinesis cases (spec 0.3, 1 record age, 3.3) reproduced exactly."""

from __future__ import annotations

import base64
import json
from typing import Any, Callable

import pytest

from harness.esm import run_simulation
from harness.esm.clock import VirtualClock
from harness.esm.config import EngineSettings, parse_mapping
from harness.esm.destinations import InMemoryDestinations
from harness.esm.filtering import RecordFilter
from harness.esm.metrics import Metrics
from harness.esm.reader_choice import make_reader
from harness.esm.shard_reader import FINISHED
from harness.esm.sources import kinesis as k
from harness.esm.sources.memory import MemoryStreamSource
from harness.invoke import InvokeResult
from harness.journal import Journal

STREAM = "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
SHARD = "shardId-000000000006"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"
START = 1_700_000_000.0
BASE = 49590338271490256608559692538361571095921575989136588898  # AWS's example sequence number
DEST = {"OnFailure": {"Destination": "arn:aws:s3:::failures"}}


def kin_records(n: int, *, start: float = START, interval: float = 0.0, seq: Callable[[int], str] | None = None,
                data: Callable[[int], Any] | None = None, keys: Callable[[int], str] | None = None) -> list[dict]:
    return [k.make_record(sequence_number=seq(i) if seq else str(BASE + i), arrival_s=start + i * interval,
                          partition_key=keys(i) if keys else f"pk-{i}",
                          data_b64=k.encode_data(data(i) if data else {"i": i}), shard_id=SHARD,
                          stream_arn=STREAM, region="us-east-2", invoke_identity_arn=ROLE)
            for i in range(n)]


def run(params: dict[str, Any], records: list[dict], respond: Callable[[list[int], int], InvokeResult], *,
        delay: float = 0.0, settings: EngineSettings | None = None) -> dict[str, Any]:
    """The real reader and processor over one closed Kinesis shard; calls hold record indexes.
    The clock starts at the first record's arrival, plus `delay`."""
    cfg = parse_mapping({"EventSourceArn": STREAM, "FunctionName": "fn", "StartingPosition": "TRIM_HORIZON", **params})
    first = records[0]["kinesis"]["approximateArrivalTimestamp"] if records else START
    clock = VirtualClock(first)
    src = MemoryStreamSource(STREAM, now=clock.now)
    src.add_shard(SHARD)
    src.append(SHARD, records)
    src.close_shard(SHARD)
    clock.advance_to(first + delay)
    pos = {r["kinesis"]["sequenceNumber"]: i for i, r in enumerate(records)}
    calls: list[list[int]] = []
    events: list[dict] = []

    class Inv:
        def invoke(self, name: str, payload: bytes) -> InvokeResult:
            event = json.loads(payload)
            events.append(event)
            calls.append([pos[r["kinesis"]["sequenceNumber"]] for r in event["Records"]])
            return respond(calls[-1], len(calls))

    journal, dest = Journal(), InMemoryDestinations()
    reader = make_reader(uuid="11111111-2222-3333-4444-555555555555", shard_id=SHARD, mapping=cfg,
                         settings=settings or EngineSettings(), cursor=src.open(SHARD, starting_position="TRIM_HORIZON"),
                         invoker=Inv(), destinations=dest, clock=clock, metrics=Metrics(), journal=journal,
                         record_filter=RecordFilter(cfg.Filters, view=cfg.kind.filter_view), sleep=clock.sleep)
    for _ in range(100_000):
        state = reader.step()
        if state == FINISHED:
            break
        if state in ("idle", "waiting"):
            wakes = [w for w in (src.next_arrival(), reader.next_wake()) if w is not None and w > clock.now()]
            assert wakes, "engine idle with nothing left to wait for"
            clock.advance_to(min(wakes))
    return {"calls": calls, "events": events, "journal": journal,
            "deliveries": [json.loads(d.body) for d in dest.deliveries], "checkpoint": reader.checkpoint}


def ok() -> InvokeResult:
    return InvokeResult(200, b"null", None, "req")


def failed_items(records: list[dict], idx: list[int], bad: set[int]) -> InvokeResult:
    ids = [{"itemIdentifier": records[i]["kinesis"]["sequenceNumber"]} for i in idx if i in bad]
    return InvokeResult(200, json.dumps({"batchItemFailures": ids}).encode(), None, "req")


def test_spec_10_event_record_shape_as_aws_delivers_it():
    """Spec 10 (DOC with-kinesis): kinesis.{schema, partitionKey, sequenceNumber, data base64,
    approximateArrivalTimestamp with ms}, eventID <shardId>:<seq>, invokeIdentityArn the role."""
    recs = kin_records(1, start=1545084650.987, data=lambda i: "Hello, this is a test.")
    out = run({}, recs, lambda idx, c: ok())
    rec = out["events"][0]["Records"][0]
    assert list(rec) == ["kinesis", "eventSource", "eventVersion", "eventID", "eventName", "invokeIdentityArn",
                         "awsRegion", "eventSourceARN"]
    assert list(rec["kinesis"]) == ["kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data",
                                    "approximateArrivalTimestamp"]
    assert rec["kinesis"]["data"] == "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg=="  # the docs' own example
    assert rec["kinesis"]["approximateArrivalTimestamp"] == 1545084650.987
    assert rec["eventID"] == f"{SHARD}:{BASE}"
    assert (rec["eventSource"], rec["eventVersion"], rec["eventName"]) == ("aws:kinesis", "1.0", "aws:kinesis:record")
    assert rec["invokeIdentityArn"] == ROLE and rec["eventSourceARN"] == STREAM and rec["awsRegion"] == "us-east-2"


def test_spec_10_aws_observed_partial_suffix_is_its_own_batch_invoke_count_4():
    """Spec 0.3 / 10 AWS-OBS: 6 records, BatchSize 3, the 6th always reported failed, 3 retries:
    delivered 5 times (once in a batch of 3, then 4 times alone); destination batchSize 1 and
    approximateInvokeCount 4, functionError null (a partial response, spec 2.3)."""
    recs = kin_records(6)
    out = run({"BatchSize": 3, "MaximumRetryAttempts": 3, "FunctionResponseTypes": ["ReportBatchItemFailures"],
               "DestinationConfig": DEST}, recs, lambda idx, c: failed_items(recs, idx, {5}))
    assert out["calls"] == [[0, 1, 2], [3, 4, 5], [5], [5], [5], [5]]
    [env] = out["deliveries"]
    info = env["KinesisBatchInfo"]
    assert "DDBStreamBatchInfo" not in env
    assert info["batchSize"] == 1 and info["startSequenceNumber"] == info["endSequenceNumber"] == str(BASE + 5)
    assert env["requestContext"]["approximateInvokeCount"] == 4
    assert env["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert env["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": None}
    assert out["checkpoint"] == str(BASE + 5)


def test_spec_10_record_age_exceeded_has_no_response_context():
    """Spec 3.3 / 10 AWS-OBS: RecordAgeExceeded without responseContext, even after failed invokes."""
    recs = kin_records(1)
    out = run({"MaximumRecordAgeInSeconds": 60, "DestinationConfig": DEST}, recs,
              lambda idx, c: InvokeResult(200, b'{"errorMessage":"x"}', "Unhandled", "r"))
    [env] = out["deliveries"]
    assert env["requestContext"]["condition"] == "RecordAgeExceeded"
    assert "responseContext" not in env
    assert env["requestContext"]["approximateInvokeCount"] == len(out["calls"]) > 1


def test_spec_10_expired_front_of_a_batch_is_discarded_alone():
    """Spec 1 record age / 10 AWS-OBS: BatchSize 10, retries 0, only the first record is past the
    age: it goes to the destination as its own record (batchSize 1, approximateInvokeCount 1,
    never invoked) and the younger records reach the function."""
    recs = [kin_records(1, start=START)[0]] + [
        k.make_record(sequence_number=str(BASE + i), arrival_s=START + 100, partition_key=f"pk-{i}",
                      data_b64=k.encode_data({"i": i}), shard_id=SHARD, stream_arn=STREAM, region="us-east-2",
                      invoke_identity_arn=ROLE) for i in range(1, 10)]
    out = run({"BatchSize": 10, "MaximumRetryAttempts": 0, "MaximumRecordAgeInSeconds": 60,
               "MaximumBatchingWindowInSeconds": 0, "DestinationConfig": DEST}, recs, lambda idx, c: ok(), delay=130)
    assert out["calls"] == [list(range(1, 10))]
    [env] = out["deliveries"]
    assert env["requestContext"]["condition"] == "RecordAgeExceeded"
    assert env["KinesisBatchInfo"]["batchSize"] == 1
    assert env["KinesisBatchInfo"]["startSequenceNumber"] == str(BASE)
    assert env["requestContext"]["approximateInvokeCount"] == 1
    assert "responseContext" not in env


def test_spec_10_malformed_partial_response_fails_whole_batch_with_function_error_null():
    """Spec 2.3 / 10 AWS-OBS: an itemIdentifier that is not a sequence number of the batch."""
    recs = kin_records(2)
    out = run({"MaximumRetryAttempts": 1, "FunctionResponseTypes": ["ReportBatchItemFailures"],
               "DestinationConfig": DEST}, recs,
              lambda idx, c: InvokeResult(200, b'{"batchItemFailures":[{"itemIdentifier":"123"}]}', None, "r"))
    assert out["calls"] == [[0, 1], [0, 1]]
    [env] = out["deliveries"]
    assert env["responseContext"]["functionError"] is None and env["requestContext"]["approximateInvokeCount"] == 2


def test_spec_10_item_identifier_is_kinesis_sequence_number_not_event_id():
    """Spec 2.2 / 10: itemIdentifier = kinesis.sequenceNumber; the eventID is not one."""
    recs = kin_records(3)
    by_seq = run({"FunctionResponseTypes": ["ReportBatchItemFailures"]}, recs,
                 lambda idx, c: failed_items(recs, idx, {1}) if c == 1 else ok())
    assert by_seq["calls"] == [[0, 1, 2], [1, 2]]  # checkpoint at the failed record, suffix re-sent

    def by_event_id(idx: list[int], c: int) -> InvokeResult:
        if c > 1:
            return ok()
        return InvokeResult(200, json.dumps({"batchItemFailures": [{"itemIdentifier": recs[1]["eventID"]}]}).encode(),
                            None, "r")

    wrong = run({"FunctionResponseTypes": ["ReportBatchItemFailures"]}, recs, by_event_id)
    assert wrong["calls"] == [[0, 1, 2], [0, 1, 2]]  # not a sequence number: the whole batch failed
    [result] = [e for e in wrong["journal"].entries("invoke_result")][:1]
    assert result["outcome"] == "invalid_response"


def test_spec_10_sequence_numbers_compare_as_integers():
    """Spec 10: moto numbers "9", "10", "11" (as strings "10" < "9"); AWS's 56-digit numbers differ
    past float precision. The lowest failed identifier and the checkpoint go by integer order."""
    recs = kin_records(3, seq=lambda i: str(9 + i))
    out = run({"FunctionResponseTypes": ["ReportBatchItemFailures"]}, recs,
              lambda idx, c: failed_items(recs, idx, {1, 2}) if c == 1 else ok())
    assert out["calls"] == [[0, 1, 2], [1, 2]]
    assert out["checkpoint"] == "11"
    big = kin_records(3, seq=lambda i: str(BASE * 10**0 + i))  # 56 digits, adjacent
    src = MemoryStreamSource(STREAM)
    src.add_shard(SHARD)
    src.append(SHARD, big)
    cur = src.open(SHARD, starting_position="TRIM_HORIZON", after_sequence=str(BASE))
    assert [r["kinesis"]["sequenceNumber"] for r in cur.read(10)[0]] == [str(BASE + 1), str(BASE + 2)]
    with pytest.raises(ValueError, match="not after"):
        src.append(SHARD, kin_records(1, seq=lambda i: str(BASE + 1)))


def test_spec_10_kinesis_batch_info_arrival_times_have_milliseconds():
    """Spec 10: approximateArrivalOf*Record is ISO-8601 with milliseconds for Kinesis."""
    recs = kin_records(2, start=1573692484.835, interval=0.1)
    out = run({"MaximumRetryAttempts": 0, "DestinationConfig": DEST}, recs,
              lambda idx, c: InvokeResult(200, b"{}", "Unhandled", "r"), delay=1)
    info = out["deliveries"][0]["KinesisBatchInfo"]
    assert info["approximateArrivalOfFirstRecord"] == "2019-11-14T00:48:04.835Z"
    assert info["approximateArrivalOfLastRecord"] == "2019-11-14T00:48:04.935Z"
    assert info["streamArn"] == STREAM and info["shardId"] == SHARD


def test_spec_10_bisect_isolates_a_poison_record():
    """Spec 2.1 applies to Kinesis: bisect down to the poison record, without consuming retries."""
    recs = kin_records(8)

    def respond(idx: list[int], c: int) -> InvokeResult:
        return InvokeResult(200, b"{}", "Unhandled", "r") if 5 in idx else ok()

    out = run({"BatchSize": 8, "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 0,
               "DestinationConfig": DEST}, recs, respond)
    [env] = out["deliveries"]
    assert env["KinesisBatchInfo"]["startSequenceNumber"] == str(BASE + 5) and env["KinesisBatchInfo"]["batchSize"] == 1
    assert json.loads(env["payload"])["Records"][0]["kinesis"]["sequenceNumber"] == str(BASE + 5)


def test_spec_10_filters_see_data_decoded_and_non_json_data_is_dropped():
    """Spec 10 (with-kinesis-filtering, invocation-eventfiltering): only `data`, decoded as JSON; a
    record whose data is not JSON matches no data pattern and is filtered out."""
    values = [{"order": {"type": "buy"}}, {"order": {"type": "sell"}}, "not json {", {"order": {"type": "buy"}}]
    recs = kin_records(4, data=lambda i: values[i])
    out = run({"FilterCriteria": {"Filters": [{"Pattern": json.dumps({"data": {"order": {"type": ["buy"]}}})}]}},
              recs, lambda idx, c: ok())
    assert sum(out["calls"], []) == [0, 3]
    [filtered] = out["journal"].entries("filtered")
    assert filtered["sequence_numbers"] == [str(BASE + 1), str(BASE + 2)]
    assert out["checkpoint"] == str(BASE + 3)


def test_spec_10_at_timestamp_starts_at_the_first_record_arriving_then():
    """Spec 10: StartingPosition AT_TIMESTAMP with StartingPositionTimestamp (Unix seconds)."""
    out = run_simulation({"source": "kinesis", "records": 5, "clock": {"record_interval_s": 10},
                          "mapping": {"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": START + 20}})
    assert sorted(out["processed"]) == [2, 3, 4]
    latest = run_simulation({"source": "kinesis", "records": 3, "mapping": {"StartingPosition": "LATEST"}})
    assert latest["invocations"] == []


def test_spec_10_parallelization_keeps_order_per_partition_key():
    """Spec 1 / 10: lanes route by kinesis.partitionKey; one key's records stay in order."""
    out = run_simulation({"source": "kinesis", "records": 60, "keys": 6,
                          "mapping": {"ParallelizationFactor": 3, "BatchSize": 4}})
    assert sorted(out["processed"]) == list(range(60))
    assert len({inv.get("lane") for inv in out["invocations"]}) > 1
    order: dict[int, list[int]] = {}
    for inv in out["invocations"]:
        for i in inv["records"]:
            order.setdefault(i % 6, []).append(i)
    assert all(v == sorted(v) for v in order.values())


def test_spec_10_tumbling_window_over_kinesis():
    """Spec 7.1 applies to Kinesis (services-kinesis-windows): window invokes carry the state."""
    out = run_simulation({"source": "kinesis", "records": 6, "clock": {"record_interval_s": 10},
                          "mapping": {"TumblingWindowInSeconds": 30}, "handler": {"aggregate": "count"}})
    finals = [inv for inv in out["invocations"] if inv["final"]]
    assert len(finals) == 3  # windows of 30 s over records 10 s apart, epoch-aligned: 1 + 3 + 2 records
    assert [inv["state_out"]["count"] for inv in finals] == [1, 3, 2]
    assert sorted(out["processed"]) == list(range(6))


def test_spec_10_retention_and_age_apply_to_ms_arrivals():
    """Spec 1 record age with Kinesis's fractional arrival times: 60.5 s old is past 60."""
    recs = kin_records(1, start=START + 0.25)
    out = run({"MaximumRecordAgeInSeconds": 60, "DestinationConfig": DEST}, recs, lambda idx, c: ok(), delay=60.55)
    assert out["calls"] == [] and out["deliveries"][0]["requestContext"]["condition"] == "RecordAgeExceeded"


def test_spec_10_decoded_data_of_the_failure_payload_is_the_original():
    recs = kin_records(1, data=lambda i: {"amount": 7})
    out = run({"MaximumRetryAttempts": 0, "DestinationConfig": DEST}, recs,
              lambda idx, c: InvokeResult(200, b"{}", "Unhandled", "r"))
    payload = json.loads(out["deliveries"][0]["payload"])
    assert json.loads(base64.b64decode(payload["Records"][0]["kinesis"]["data"])) == {"amount": 7}


def test_spec_10_retention_24_hours_by_default_and_longer_when_the_stream_keeps_more():
    """Spec 10 / 8: Kinesis keeps records 24 h by default (up to 365 days): a record still
    unprocessed past the retention is gone without a destination record (EngineSettings.retention_s)."""
    spec = {"source": "kinesis", "records": 2, "clock": {"start_delay_s": 2 * 86400},
            "mapping": {"DestinationConfig": DEST}}
    gone = run_simulation(spec)
    assert gone["trimmed"] == [0, 1] and gone["invocations"] == [] and gone["destination"] == []
    kept = run_simulation({**spec, "engine": {"retention_s": 7 * 86400}})
    assert kept["trimmed"] == [] and sorted(kept["processed"]) == [0, 1]
