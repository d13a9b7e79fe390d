"""NativeEsm: pass-through of the ESM API (Stubber), and what `drain` waits for (a fake Lambda whose
mapping state a test changes, plus moto's real DynamoDB stream for the stream-end watch).

moto's own event source mappings are never created: they would try Docker and eat the stream.
"""

from __future__ import annotations

import threading
import time
import uuid as uuidlib
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from harness.backends import get_backend
from harness.esm.native import NativeEsm, NativeEsmError
from harness.journal import Journal

STREAM = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"


def _lambda() -> Any:
    return boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_create_before_start_is_disabled_then_start_enables_it(tmp_path: Path) -> None:
    client = _lambda()
    journal = Journal(tmp_path / "j.jsonl")
    esm = NativeEsm(client, journal)
    params = {"FunctionName": "consumer", "EventSourceArn": STREAM, "StartingPosition": "TRIM_HORIZON",
              "BatchSize": 10, "BisectBatchOnFunctionError": True}
    uuid = str(uuidlib.uuid4())
    with Stubber(client) as stub:
        stub.add_response("create_event_source_mapping",
                          {"UUID": uuid, "State": "Disabled", "BisectBatchOnFunctionError": True,
                           "ResponseMetadata": {"RequestId": "x"}},
                          {**params, "Enabled": False})
        stub.add_response("update_event_source_mapping", {"UUID": uuid, "State": "Enabling"},
                          {"UUID": uuid, "Enabled": True})
        stub.add_response("update_event_source_mapping", {"UUID": uuid, "State": "Disabling"},
                          {"UUID": uuid, "Enabled": False})
        response = esm.create_event_source_mapping(**params)
        esm.start()
        esm.start()  # idempotent: no second UpdateEventSourceMapping
        esm.stop()
        stub.assert_no_pending_responses()
    assert response == {"UUID": uuid, "State": "Disabled", "BisectBatchOnFunctionError": True}
    assert [e["action"] for e in journal.entries("native_mapping")] == ["created", "enabled", "disabled"]
    assert journal.entries("native_mapping", action="created")[0]["bisect"] is True


def test_create_while_running_passes_params_unchanged_and_a_disabled_mapping_stays_disabled() -> None:
    client = _lambda()
    esm = NativeEsm(client)
    esm.start()
    u1, u2 = str(uuidlib.uuid4()), str(uuidlib.uuid4())
    with Stubber(client) as stub:
        stub.add_response("create_event_source_mapping", {"UUID": u1, "State": "Creating"},
                          {"FunctionName": "f", "EventSourceArn": STREAM, "StartingPosition": "LATEST"})
        stub.add_response("create_event_source_mapping", {"UUID": u2, "State": "Disabled"},
                          {"FunctionName": "f", "EventSourceArn": STREAM, "StartingPosition": "LATEST",
                           "Enabled": False})
        esm.create_event_source_mapping(FunctionName="f", EventSourceArn=STREAM, StartingPosition="LATEST")
        esm.create_event_source_mapping(FunctionName="f", EventSourceArn=STREAM, StartingPosition="LATEST",
                                        Enabled=False)
        stub.add_response("update_event_source_mapping", {"UUID": u1}, {"UUID": u1, "Enabled": False})
        esm.stop()  # only u1 was wanted enabled, so only u1 is disabled
        stub.assert_no_pending_responses()


def test_api_errors_name_the_call_and_the_subject() -> None:
    client = _lambda()
    esm = NativeEsm(client)
    with Stubber(client) as stub:
        stub.add_client_error("create_event_source_mapping", "InvalidParameterValueException", "bad batch size")
        with pytest.raises(NativeEsmError, match=r"CreateEventSourceMapping \(consumer\).*bad batch size"):
            esm.create_event_source_mapping(FunctionName="consumer", EventSourceArn=STREAM, BatchSize=5)
    assert esm.list_event_source_mappings() == []


def test_metrics_are_empty_with_or_without_a_uuid() -> None:
    esm = NativeEsm(_lambda())
    assert esm.metrics() == {} and esm.metrics("u-1") == {}


class FakeLambda:
    """Just enough of the Lambda ESM API for `drain`: a test moves the mapping's state."""

    def __init__(self) -> None:
        self.mappings: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def create_event_source_mapping(self, **params: Any) -> dict:
        uuid = str(uuidlib.uuid4())
        with self.lock:
            self.mappings[uuid] = {"UUID": uuid, "EventSourceArn": params["EventSourceArn"],
                                   "State": "Creating" if params.get("Enabled", True) else "Disabled",
                                   "LastProcessingResult": "No records processed"}
            return dict(self.mappings[uuid])

    def update_event_source_mapping(self, UUID: str, Enabled: bool) -> dict:  # noqa: N803
        with self.lock:
            self.mappings[UUID]["State"] = "Enabled" if Enabled else "Disabled"
            return dict(self.mappings[UUID])

    def get_event_source_mapping(self, UUID: str) -> dict:  # noqa: N803
        with self.lock:
            if UUID not in self.mappings:
                raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "gone"}},
                                  "GetEventSourceMapping")
            return dict(self.mappings[UUID])

    def set(self, uuid: str, **fields: Any) -> None:
        with self.lock:
            self.mappings[uuid].update(fields)


def test_drain_waits_for_enabled_and_then_for_quiet() -> None:
    fake = FakeLambda()
    esm = NativeEsm(fake, quiet_s=0.3, poll_interval_s=0.02)
    esm.start()
    uuid = esm.create_event_source_mapping(FunctionName="f", EventSourceArn=STREAM)["UUID"]
    with pytest.raises(TimeoutError, match=f"not Enabled yet: {uuid}"):
        esm.drain(timeout=0.5)  # still "Creating"
    fake.set(uuid, State="Enabled")

    def busy() -> None:  # the poller keeps reporting new results for 0.5 s
        for i in range(10):
            fake.set(uuid, LastProcessingResult=f"OK {i}")
            time.sleep(0.05)

    worker = threading.Thread(target=busy)
    began = time.monotonic()
    worker.start()
    esm.drain(timeout=5)
    waited = time.monotonic() - began
    worker.join()
    assert waited >= 0.45 + 0.3 - 0.05, waited  # not before the changes stopped plus the quiet period


def test_drain_times_out_naming_what_kept_changing() -> None:
    fake = FakeLambda()
    esm = NativeEsm(fake, quiet_s=0.3, poll_interval_s=0.02)
    esm.start()
    uuid = esm.create_event_source_mapping(FunctionName="f", EventSourceArn=STREAM)["UUID"]
    fake.set(uuid, State="Enabled")
    stop = threading.Event()

    def churn() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            fake.set(uuid, LastProcessingResult=f"OK {i}")
            time.sleep(0.02)

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        with pytest.raises(TimeoutError, match="state or stream end changed"):
            esm.drain(timeout=0.6)
    finally:
        stop.set()
        worker.join()


@pytest.fixture(scope="module")
def moto() -> Iterator[Any]:
    with get_backend("embedded") as backend:
        yield backend


def test_drain_also_waits_for_the_stream_end_to_stop_moving(moto: Any, tmp_path: Path) -> None:
    ddb = moto.client("dynamodb")
    table = f"native-{uuidlib.uuid4().hex[:6]}"
    stream = ddb.create_table(
        TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    fake = FakeLambda()
    journal = Journal(tmp_path / "j.jsonl")
    esm = NativeEsm(fake, journal, streams_client=moto.client("dynamodbstreams"), quiet_s=0.4, poll_interval_s=0.03)
    esm.start()
    uuid = esm.create_event_source_mapping(FunctionName="f", EventSourceArn=stream)["UUID"]
    fake.set(uuid, State="Enabled")

    def writer() -> None:  # the mapping's state never changes; only the stream grows
        for i in range(8):
            ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}})
            time.sleep(0.1)

    worker = threading.Thread(target=writer)
    began = time.monotonic()
    worker.start()
    esm.drain(timeout=10)
    waited = time.monotonic() - began
    worker.join()
    assert waited >= 0.7 + 0.4 - 0.1, waited
    tails = esm._stream_tails(esm.list_event_source_mappings())
    assert len(tails) == 1 and tails[0][0] == stream
    [done] = journal.entries("native_drain")
    assert done["mappings"] == {uuid: "No records processed"}


def test_constructor_rejects_non_positive_timings() -> None:
    with pytest.raises(ValueError, match="quiet_s"):
        NativeEsm(_lambda(), quiet_s=0)

