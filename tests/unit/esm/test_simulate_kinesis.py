"""`shardproof simulate` with `"source": "kinesis"` (spec 10) and `run_simulation(spec, stream_records=...)`."""

from __future__ import annotations

import base64
import json

import pytest

from harness.cli import main
from harness.esm import SimulationSpecError, run_simulation
from harness.esm.records import make_record
from harness.esm.sources import kinesis as k

DEST = {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:failures"}}
S3 = {"OnFailure": {"Destination": "arn:aws:s3:::failures"}}


def test_spec_10_simulate_kinesis_emits_kinesis_records_and_envelopes():
    out = run_simulation({"source": "kinesis", "records": 4, "mapping": {"BatchSize": 4, "MaximumRetryAttempts": 0,
                                                                         "BisectBatchOnFunctionError": True,
                                                                         "DestinationConfig": S3},
                          "handler": {"fail": [2]}})
    assert [inv["records"] for inv in out["invocations"]][:1] == [[0, 1, 2, 3]]
    [d] = out["destination"]
    assert d["records"] == [2] and d["shard"] == "shardId-000000000000"
    env = d["envelope"]
    info = env["KinesisBatchInfo"]
    assert info["streamArn"] == "arn:aws:kinesis:us-east-1:123456789012:stream/simulated"
    assert len(info["startSequenceNumber"]) == 56 and info["startSequenceNumber"].isdigit()  # like AWS's
    assert info["approximateArrivalOfFirstRecord"].endswith(".000Z")
    rec = json.loads(env["payload"])["Records"][0]
    assert rec["eventID"] == f"shardId-000000000000:{info['startSequenceNumber']}"
    assert rec["kinesis"]["partitionKey"] == "item-2"
    assert json.loads(base64.b64decode(rec["kinesis"]["data"])) == {"id": 2}
    assert d["key"].startswith("aws/lambda/") and "/shardId-000000000000/" in d["key"]
    assert sorted(out["processed"]) == [0, 1, 3]


def test_spec_10_simulate_records_as_partition_key_and_data():
    """data: a string is sent as UTF-8, any other JSON value as its JSON text; base64 in the event."""
    recs = [{"partitionKey": "a", "data": "héllo"}, {"partitionKey": "b", "data": {"x": [1, 2]}},
            {"partitionKey": "a", "data": 42}, {"partitionKey": "c", "data": None, "$shard": 1}]
    out = run_simulation({"source": "kinesis", "records": recs, "shards": 2, "handler": {"fail": [0, 1, 2, 3]},
                          "mapping": {"MaximumRetryAttempts": 0, "DestinationConfig": S3}})
    payloads = {}
    for d in out["destination"]:
        for r, i in zip(json.loads(d["envelope"]["payload"])["Records"], d["records"]):
            payloads[i] = (r["kinesis"]["partitionKey"], base64.b64decode(r["kinesis"]["data"]), d["shard"])
    assert payloads[0][:2] == ("a", "héllo".encode())
    assert payloads[1][:2] == ("b", b'{"x":[1,2]}')
    assert payloads[2][:2] == ("a", b"42")
    assert payloads[3] == ("c", b"null", "shardId-000000000001")
    assert payloads[0][2] == payloads[2][2]  # one partition key, one shard


@pytest.mark.parametrize("spec,match", [
    ({"source": "kafka"}, "source must be one of dynamodb, kinesis"),
    ({"source": "kinesis", "records": [{"data": 1}]}, r"records\[0\].partitionKey"),
    ({"source": "kinesis", "records": [{"partitionKey": "", "data": 1}]}, r"records\[0\].partitionKey"),
    ({"source": "kinesis", "records": [{"partitionKey": "a"}]}, r"records\[0\].data is required"),
    ({"source": "kinesis", "records": [{"partitionKey": "a", "data": 1, "id": 2}]}, r"unknown field\(s\) id"),
    ({"source": "kinesis", "records": [{"partitionKey": "a", "data": 1, "$key": "x"}]}, r"\$key"),
    ({"source": "kinesis", "records": ["x"]}, r"records\[0\] must be an object \(a \{partitionKey, data\} record\)"),
    ({"source": "kinesis", "mapping": {"EventSourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/x"}},
     "is a DynamoDB stream ARN but the simulation's source is 'kinesis'"),
    ({"source": "kinesis", "mapping": {"FilterCriteria": {"Filters": [{"Pattern": '{"partitionKey": ["a"]}'}]}}},
     "only support filtering on the data key"),
    ({"mapping": {"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": 1}}, "AT_TIMESTAMP is supported only"),
])
def test_spec_10_simulate_kinesis_bad_input_names_the_field(spec, match):
    with pytest.raises(SimulationSpecError, match=match):
        run_simulation(spec)


def test_simulate_default_source_is_still_dynamodb():
    out = run_simulation({"records": 2, "mapping": {"MaximumRetryAttempts": 0, "DestinationConfig": DEST},
                          "handler": {"fail": [1]}})
    assert "DDBStreamBatchInfo" in out["destination"][0]["envelope"]


def test_spec_10_cli_simulate_source_kinesis(tmp_path, capsys):
    spec = tmp_path / "k.json"
    spec.write_text(json.dumps({"source": "kinesis", "records": [{"partitionKey": "p", "data": {"a": 1}}],
                                "mapping": {"MaximumRetryAttempts": 0, "DestinationConfig": DEST},
                                "handler": {"fail": [0]}}))
    assert main(["simulate", "--spec", str(spec)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["destination"][0]["envelope"]["KinesisBatchInfo"]["batchSize"] == 1
    spec.write_text(json.dumps({"source": "kinesis", "records": [{"partitionKey": "p"}]}))
    assert main(["simulate", "--spec", str(spec)]) == 2
    assert "records[0].data is required" in capsys.readouterr().err


# -- stream_records: the records a real stream held -------------------------------------------

MOTO_STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"


def moto_kinesis(shard: str, seq: int, at: float, pk: str) -> dict:
    """Kinesis records as the engine normalises moto's: "1", "2"... per shard, so two shards repeat."""
    return k.make_record(sequence_number=str(seq), arrival_s=at, partition_key=pk, data_b64=k.encode_data({"pk": pk}),
                         shard_id=shard, stream_arn=MOTO_STREAM, region="us-east-1",
                         invoke_identity_arn="arn:aws:iam::123456789012:role/r")


def test_stream_records_kinesis_indexes_are_positions_and_shards_come_from_event_ids():
    at = 1_760_000_000.123
    recs = [moto_kinesis("shardId-000000000000", 1, at, "a"), moto_kinesis("shardId-000000000001", 1, at, "b"),
            moto_kinesis("shardId-000000000000", 2, at + 1, "c"), moto_kinesis("shardId-000000000001", 2, at + 1, "d")]
    out = run_simulation({"records": 4, "handler": {"fail": [3]},
                          "mapping": {"MaximumRetryAttempts": 0, "DestinationConfig": S3}}, stream_records=recs)
    assert sorted(out["processed"]) == [0, 1, 2]
    [d] = out["destination"]
    assert d["records"] == [3] and d["shard"] == "shardId-000000000001"
    info = d["envelope"]["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == "2" and info["streamArn"] == MOTO_STREAM
    assert info["approximateArrivalOfFirstRecord"] == "2025-10-09T08:53:21.123Z"
    # The records are used as delivered, not regenerated.
    assert json.loads(d["envelope"]["payload"])["Records"][0] == recs[3]
    shards = {inv["shard"] for inv in out["invocations"]}
    assert shards == {"shardId-000000000000", "shardId-000000000001"}


def test_stream_records_dynamodb_as_delivered():
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000"
    recs = [make_record(sequence_number=str(100 + i), arrival_s=1_760_000_000 + i, new_image={"pk": {"S": f"o{i}"}},
                        keys={"pk": {"S": f"o{i}"}}, stream_arn=arn, region="us-east-1", event_id=f"e{i}")
            for i in range(3)]
    out = run_simulation({"mapping": {"BatchSize": 3, "MaximumRetryAttempts": 0, "DestinationConfig": S3},
                          "handler": {"fail": [1]}, "clock": {"start_delay_s": 5}}, stream_records=recs)
    [d] = out["destination"]
    assert d["records"] == [0, 1, 2] and d["envelope"]["DDBStreamBatchInfo"]["streamArn"] == arn
    assert d["envelope"]["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"] == "2025-10-09T08:53:20Z"


def test_stream_records_record_age_uses_the_records_own_arrival_times():
    recs = [moto_kinesis("shardId-000000000000", i + 1, 1_760_000_000 + 50 * i, f"k{i}") for i in range(3)]
    out = run_simulation({"mapping": {"MaximumRecordAgeInSeconds": 60, "DestinationConfig": S3},
                          "clock": {"start_delay_s": 90}}, stream_records=recs)
    assert [d["records"] for d in out["destination"]] == [[0]]  # 90 s old; the others are 40 s and fresh
    assert out["destination"][0]["envelope"]["requestContext"]["condition"] == "RecordAgeExceeded"


@pytest.mark.parametrize("spec,records,match", [
    ({"records": 3}, 2, r"records must be absent or 2"),
    ({"clock": {"record_interval_s": 1}}, 2, "record_interval_s cannot be used with stream_records"),
    ({"source": "dynamodb"}, 2, "source is 'dynamodb' but stream_records are Kinesis stream records"),
])
def test_stream_records_bad_combinations(spec, records, match):
    recs = [moto_kinesis("shardId-000000000000", i + 1, 1_760_000_000, "a") for i in range(records)]
    with pytest.raises(SimulationSpecError, match=match):
        run_simulation(spec, stream_records=recs)


def test_stream_records_bad_records_name_the_index():
    good = moto_kinesis("shardId-000000000000", 1, 1_760_000_000, "a")
    with pytest.raises(SimulationSpecError, match=r"stream_records\[1\] is not a Lambda-shaped stream record"):
        run_simulation({}, stream_records=[good, {"x": 1}])
    with pytest.raises(SimulationSpecError, match=r"stream_records\[1\] repeats the eventID"):
        run_simulation({}, stream_records=[good, dict(good)])
    older = moto_kinesis("shardId-000000000000", 0, 1_760_000_000, "a")
    with pytest.raises(SimulationSpecError, match="shardId-000000000000.*not after"):
        run_simulation({}, stream_records=[good, older])
    ddb = make_record(sequence_number="1", arrival_s=1, new_image={}, keys={"pk": {"S": "a"}},
                      stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/x", region="us-east-1",
                      event_id="e")
    with pytest.raises(SimulationSpecError, match=r"stream_records\[1\] is a DynamoDB stream record"):
        run_simulation({}, stream_records=[good, ddb])
