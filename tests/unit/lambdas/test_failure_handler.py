"""The failure handler against the embedded backend (S3 + SNS + an SQS queue reading the alerts)."""

from __future__ import annotations

import json
import urllib.parse
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas_testkit import load_lambda_module  # type: ignore[import-not-found]

app = load_lambda_module("failure_handler", "app")
failure_record = load_lambda_module("failure_handler", "failure_record")

ESM = "6e4d2b1a-8c3f-4a5e-9b7d-1f2e3d4c5b6a"
SHARD = "shardId-00000001573689847184-864758bb"
STREAM = "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"


def stream_record(seq: str) -> dict:
    return {"eventID": uuid.uuid4().hex, "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-2",
            "dynamodb": {"ApproximateCreationDateTime": 1573690399, "Keys": {"pk": {"S": "order#1"}},
                         "NewImage": {"pk": {"S": "order#1"}}, "SequenceNumber": seq, "SizeBytes": 26,
                         "StreamViewType": "NEW_AND_OLD_IMAGES"},
            "eventSourceARN": STREAM}


def envelope(seqs: list[str], payload_as_string: bool = True, **over: object) -> dict:
    payload: object = {"Records": [stream_record(s) for s in seqs]}
    env = {
        "DDBStreamBatchInfo": {"approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
                               "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z", "batchSize": len(seqs),
                               "endSequenceNumber": seqs[-1], "shardId": SHARD, "startSequenceNumber": seqs[0],
                               "streamArn": STREAM},
        "payload": json.dumps(payload) if payload_as_string else payload,
        "requestContext": {"approximateInvokeCount": 3, "condition": "RetryAttemptsExhausted",
                           "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:consumer",
                           "requestId": str(uuid.uuid4())},
        "responseContext": {"executedVersion": "$LATEST", "functionError": "Unhandled", "statusCode": 200},
        "timestamp": "2019-11-14T00:13:49.717Z",
        "version": "1.0",
    }
    env.update(over)
    return env


def esm_key(suffix: str = "") -> str:
    return f"aws/lambda/{ESM}/{SHARD}/2019/11/14/2019-11-14T00.13.49-{uuid.uuid4()}{suffix}"


def s3_event(bucket: str, *keys: str, name: str = "ObjectCreated:Put") -> dict:
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                         "eventTime": "2025-03-04T05:06:07.000Z", "eventName": name,
                         "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                                "object": {"key": urllib.parse.quote_plus(k), "size": 1}}} for k in keys]}


@pytest.fixture()
def stack(aws_env, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A bucket, an alert topic and an SQS queue subscribed to it; yields a helper namespace."""
    suffix = uuid.uuid4().hex[:8]
    s3, sns, sqs = aws_env.client("s3"), aws_env.client("sns"), aws_env.client("sqs")
    bucket = f"failures-{suffix}"
    s3.create_bucket(Bucket=bucket)
    topic = sns.create_topic(Name=f"alerts-{suffix}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"alerts-{suffix}")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    monkeypatch.setenv("ALERT_TOPIC_ARN", topic)
    monkeypatch.setenv("EXPECTED_BUCKET_OWNER", aws_env.account_id)
    monkeypatch.delenv("ARCHIVE_PREFIX", raising=False)

    class Stack:
        def put(self, key: str, body: object) -> str:
            data = body if isinstance(body, bytes) else json.dumps(body, sort_keys=True).encode()
            s3.put_object(Bucket=bucket, Key=key, Body=data)
            return key

        def alerts(self) -> list[dict]:
            out = []
            for _ in range(3):
                msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
                for m in msgs:
                    note = json.loads(m["Body"])
                    out.append({"Subject": note.get("Subject"), **json.loads(note["Message"])})
                    sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
                if not msgs:
                    break
            return out

        def keys(self) -> list[str]:
            return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))

        def body(self, key: str) -> bytes:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    st = Stack()
    st.bucket = bucket  # type: ignore[attr-defined]
    return st


def test_valid_record_is_archived_and_alerted(stack) -> None:  # type: ignore[no-untyped-def]
    seqs = ["800000000003126276362", "800000000003126276363"]
    key = stack.put(esm_key(), envelope(seqs))
    result = app.handler(s3_event(stack.bucket, key))
    archived = f"archive/condition=RetryAttemptsExhausted/date=2019-11-14/{key.replace('/', '_')}"
    assert result["results"][0]["kind"] == "failure" and result["results"][0]["archiveKey"] == archived
    assert stack.keys() == sorted([key, archived])  # original kept, copy identical
    assert stack.body(archived) == stack.body(key)
    [alert] = stack.alerts()
    assert alert["kind"] == "failure" and alert["problems"] == [] and alert["notes"] == []
    assert alert["function"] == "consumer" and alert["condition"] == "RetryAttemptsExhausted"
    assert alert["shard"] == SHARD and alert["sequenceRange"] == {"start": seqs[0], "end": seqs[1]}
    assert (alert["batchSize"], alert["invokeCount"], alert["bucket"], alert["key"]) == (2, 3, stack.bucket, key)
    assert alert["Subject"].startswith("ESM failure: consumer RetryAttemptsExhausted 2 record(s)")


def test_spec_10_kinesis_failure_record_is_archived_and_alerted(stack) -> None:  # type: ignore[no-untyped-def]
    """The shipped checks (failure_record.py = harness/failures/checks.py) accept a Kinesis record."""
    kshard, karn = "shardId-000000000006", "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
    seq = "49590338271490256608559692538361571095921575989136588898"
    record = {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "1", "sequenceNumber": seq,
                          "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==", "approximateArrivalTimestamp": 1573690399.835},
              "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{kshard}:{seq}",
              "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
              "awsRegion": "us-east-2", "eventSourceARN": karn}
    env = envelope([seq])
    env.pop("DDBStreamBatchInfo")
    env["KinesisBatchInfo"] = {"approximateArrivalOfFirstRecord": "2019-11-14T00:13:19.835Z",
                               "approximateArrivalOfLastRecord": "2019-11-14T00:13:19.835Z", "batchSize": 1,
                               "endSequenceNumber": seq, "shardId": kshard, "startSequenceNumber": seq,
                               "streamArn": karn}
    env["payload"] = json.dumps({"Records": [record]})
    key = stack.put(f"aws/lambda/{ESM}/{kshard}/2019/11/14/2019-11-14T00.13.49-{uuid.uuid4()}", env)
    result = app.handler(s3_event(stack.bucket, key))
    assert result["results"][0]["kind"] == "failure"
    [alert] = stack.alerts()
    assert alert["problems"] == [] and alert["shard"] == kshard and alert["streamArn"] == karn
    assert alert["sequenceRange"] == {"start": seq, "end": seq}


def test_object_payload_is_accepted_but_flagged(stack) -> None:  # type: ignore[no-untyped-def]
    key = stack.put(esm_key(".json"), envelope(["800000000003126276362"], payload_as_string=False))
    app.handler(s3_event(stack.bucket, key))
    [alert] = stack.alerts()
    assert alert["kind"] == "failure"
    assert any("not AWS's shape" in n for n in alert["notes"]) and any(".json" in n for n in alert["notes"])
    assert alert["archiveKey"].startswith("archive/condition=RetryAttemptsExhausted/")


def test_record_age_exceeded_without_response_context(stack) -> None:  # type: ignore[no-untyped-def]
    env = envelope(["800000000003126276362"])
    env.pop("responseContext")
    env["requestContext"].update(condition="RecordAgeExceeded", approximateInvokeCount=1)
    key = stack.put(esm_key(), env)
    app.handler(s3_event(stack.bucket, key))
    [alert] = stack.alerts()
    assert alert["kind"] == "failure" and alert["condition"] == "RecordAgeExceeded" and alert["notes"] == []


@pytest.mark.parametrize(
    "mutate, problem",
    [
        (lambda e: e["DDBStreamBatchInfo"].update(batchSize=5), "batchSize is 5 but payload holds 2"),
        (lambda e: e["DDBStreamBatchInfo"].update(startSequenceNumber="800000000003126276360"), "startSequenceNumber"),
        (lambda e: e["DDBStreamBatchInfo"].update(endSequenceNumber="800000000003126276369"), "endSequenceNumber"),
        (lambda e: e["DDBStreamBatchInfo"].update(shardId="shardId-other"), "key shard"),
        (lambda e: e["requestContext"].update(condition="RecordAgeExpired"), "requestContext.condition"),
        (lambda e: e["requestContext"].update(approximateInvokeCount="3"), "approximateInvokeCount must be an integer"),
        (lambda e: e.pop("payload"), "payload is missing"),
        (lambda e: e.update(payload="{not json"), "not JSON"),
        (lambda e: e.update(payload=[1]), "payload must be"),
        (lambda e: e.update(version="2.0"), "version"),
        (lambda e: e.update(timestamp="yesterday"), "timestamp"),
        (lambda e: e["DDBStreamBatchInfo"].update(streamArn="arn:aws:sqs:x"), "streamArn"),
    ],
)
def test_inconsistent_records_are_malformed(stack, mutate, problem) -> None:  # type: ignore[no-untyped-def]
    env = envelope(["800000000003126276362", "800000000003126276363"])
    mutate(env)
    key = stack.put(esm_key(), env)
    result = app.handler(s3_event(stack.bucket, key))
    [alert] = stack.alerts()
    assert alert["kind"] == "malformed", alert
    assert any(problem in p for p in alert["problems"]), alert["problems"]
    assert alert["Subject"].startswith("Malformed failure object")
    archived = result["results"][0]["archiveKey"]
    assert archived.startswith("archive/condition=malformed/date=2025-03-04/")
    assert key in stack.keys()  # never deleted


@pytest.mark.parametrize(
    "key, body, problem",
    [
        ("aws/lambda/async/consumer/2025/03/04/2025-03-04T05.06.07-" + str(uuid.uuid4()),
         {"version": "1.0", "requestContext": {"condition": "RetriesExhausted"}, "requestPayload": {}}, "async"),
        ("aws/lambda/notes.txt", b"hello, not json", "not JSON"),
        (None, {"KinesisBatchInfo": {}, "requestContext": {}}, "Kinesis"),
        (None, [1, 2, 3], "JSON object"),
        ("aws/lambda/" + ESM + "/x.json", {"version": "1.0"}, "does not match the ESM layout"),
    ],
)
def test_foreign_objects_are_malformed_and_handler_returns(stack, key, body, problem) -> None:  # type: ignore[no-untyped-def]
    key = stack.put(key or esm_key(), body)
    result = app.handler(s3_event(stack.bucket, key))
    assert result["results"][0]["kind"] == "malformed"
    [alert] = stack.alerts()
    assert any(problem in p for p in alert["problems"]), alert["problems"]
    assert all(not k.startswith("archive/condition=Retry") for k in stack.keys())


def test_several_records_url_encoded_keys_and_loop_guard(stack) -> None:  # type: ignore[no-untyped-def]
    shard = "shardId-0000+0001 x"  # '+' and ' ' are encoded differently in S3 events
    seq = "800000000003126276362"
    env = envelope([seq])
    env["DDBStreamBatchInfo"]["shardId"] = shard
    k1 = stack.put(f"aws/lambda/{ESM}/{shard}/2019/11/14/2019-11-14T00.13.49-{uuid.uuid4()}", env)
    k2 = stack.put(esm_key(), envelope([seq]))
    archived = stack.put("archive/condition=x/date=2019-11-14/whatever", b"{}")
    result = app.handler(s3_event(stack.bucket, k1, k2, archived))
    assert [r["kind"] for r in result["results"]] == ["failure", "failure"] and result["ignored"] == 1
    assert {a["key"] for a in stack.alerts()} == {k1, k2}
    removed = app.handler(s3_event(stack.bucket, k2, name="ObjectRemoved:Delete"))
    assert removed == {"results": [], "ignored": 1}


def test_odd_notification_records_are_ignored_not_raised(stack) -> None:  # type: ignore[no-untyped-def]
    """A non-string eventName or object key once raised AttributeError and aborted the whole event."""
    good = stack.put(esm_key(), envelope(["800000000003126276362"]))
    event = s3_event(stack.bucket, good, good)
    event["Records"][0]["eventName"] = None
    odd_key = json.loads(json.dumps(event["Records"][1]))
    odd_key["s3"]["object"]["key"] = 42
    event["Records"][1:] = [odd_key, "not a record", *event["Records"][1:]]
    result = app.handler(event)
    assert result["ignored"] == 3 and [r["key"] for r in result["results"]] == [good]
    assert [a["key"] for a in stack.alerts()] == [good]


def test_missing_object_is_reported_not_raised(stack) -> None:  # type: ignore[no-untyped-def]
    key = esm_key()
    result = app.handler(s3_event(stack.bucket, key))
    assert result["results"][0]["archiveKey"] is None
    [alert] = stack.alerts()
    assert alert["kind"] == "malformed" and "no longer exists" in alert["problems"][0]


def test_infrastructure_errors_raise_after_trying_every_record(stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    good = stack.put(esm_key(), envelope(["800000000003126276362"]))
    monkeypatch.setenv("ALERT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:no-such-topic")
    with pytest.raises(app.DeliveryError, match="could not be alerted"):
        app.handler(s3_event(stack.bucket, good))


def test_configuration_errors_name_the_variable(stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ARCHIVE_PREFIX", "aws/lambda/archive/")
    with pytest.raises(app.ConfigError, match="ARCHIVE_PREFIX"):
        app.handler({"Records": []})
    monkeypatch.delenv("ARCHIVE_PREFIX")
    for bad in ("0", "-5", "lots"):  # 0 or less would leave every object unread and unarchived
        monkeypatch.setenv("MAX_OBJECT_BYTES", bad)
        with pytest.raises(app.ConfigError, match="MAX_OBJECT_BYTES must be a positive integer"):
            app.handler({"Records": []})
    monkeypatch.delenv("ALERT_TOPIC_ARN")
    with pytest.raises(app.ConfigError, match="ALERT_TOPIC_ARN"):
        app.handler({"Records": []})


def test_check_key_layout() -> None:
    check = failure_record.FailureCheck(key="")
    assert failure_record.check_key(esm_key(), check) and not check.problems
    assert failure_record.check_key(esm_key(".json"), check) and check.notes
    bad = failure_record.FailureCheck(key="")
    assert failure_record.check_key(f"aws/lambda/{ESM}/{SHARD}/2019/11/14/2019-11-15T00.13.49-{uuid.uuid4()}", bad) is None
    assert bad.problems



ENVELOPE_KEYS = ["payload", "Records", "dynamodb", "SequenceNumber", "DDBStreamBatchInfo", "requestContext",
                 "responseContext", "batchSize", "condition", "timestamp", "version", "shardId", "startSequenceNumber"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(ENVELOPE_KEYS), children, max_size=5),
    max_leaves=15,
)


stream_records = st.lists(
    st.dictionaries(st.sampled_from(["dynamodb", "eventName"]),
                    json_values | st.fixed_dictionaries({"SequenceNumber": json_values})),
    max_size=3,
)
payloads = json_values | st.fixed_dictionaries({"Records": stream_records | json_values})


@settings(max_examples=300, deadline=None)
@given(body=json_values | st.builds(lambda: envelope(["800000000003126276362"])), payload=payloads,
       as_string=st.booleans())
def test_validation_never_raises_on_arbitrary_json(body: object, payload: object, as_string: bool) -> None:
    """Bad content must become a verdict, never an exception (which would look like an infrastructure error)."""
    if isinstance(body, dict) and payload is not None:
        body["payload"] = json.dumps(payload) if as_string else payload
    check = failure_record.check_failure_object(esm_key(), json.dumps(body).encode())
    assert all(isinstance(p, str) for p in check.problems + check.notes)
    if check.valid:  # only the untouched envelope (payload None) can still be consistent
        assert payload is None and isinstance(body, dict) and check.records


def test_unhashable_condition_is_a_problem_not_a_crash():
    """Found by the property test: a list-valued condition once raised TypeError (spec §3.3)."""
    import json as _json

    from failure_record import check_failure_object

    body = _json.dumps({"requestContext": {"payload": None, "condition": []}}).encode()
    check = check_failure_object("aws/lambda/x", body)
    assert not check.valid and check.problems


class _FakeLambda:
    """Stands in for the consumer: answers each invoke from a script, recording payloads."""

    def __init__(self, answers: list[tuple[str | None, object]]) -> None:
        self.answers = list(answers)
        self.payloads: list[dict] = []

    def invoke(self, **params):  # type: ignore[no-untyped-def]
        import io

        self.payloads.append(json.loads(params["Payload"]))
        error, body = self.answers.pop(0)
        resp = {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(body).encode())}
        if error:
            resp["FunctionError"] = error
        return resp


@pytest.fixture()
def auto_replay(stack, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AUTO_REPLAY", "consumer")
    monkeypatch.setenv("AUTO_REPLAY_FUNCTION", "consumer")
    monkeypatch.setenv("AUTO_REPLAY_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("AUTO_REPLAY_DELAY_SECONDS", "0")
    real = app._client

    def install(answers):  # type: ignore[no-untyped-def]
        fake = _FakeLambda(answers)
        monkeypatch.setattr(app, "_client", lambda service: fake if service == "lambda" else real(service))
        return fake

    return install


def test_auto_replay_off_by_default_invokes_nothing(stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(app, "_client", lambda service: pytest.fail("no client expected") if service == "lambda"
                        else app._clients.get(service) or __import__("boto3").client(service))
    key = stack.put(esm_key(), envelope(["800000000003126276362"]))
    assert app.handler(s3_event(stack.bucket, key))["results"][0]["kind"] == "failure"


def test_auto_replay_succeeds_on_second_attempt_and_tags_the_object(stack, auto_replay, aws_env) -> None:  # type: ignore[no-untyped-def]
    fake = auto_replay([("Unhandled", {"errorMessage": "still bad"}), (None, {"batchItemFailures": []})])
    seqs = ["800000000003126276362", "800000000003126276363"]
    key = stack.put(esm_key(), envelope(seqs))
    app.handler(s3_event(stack.bucket, key))
    assert len(fake.payloads) == 2
    assert [r["dynamodb"]["SequenceNumber"] for r in fake.payloads[0]["Records"]] == seqs  # the original batch
    [alert] = stack.alerts()
    assert alert["kind"] == "auto-replayed" and alert["autoReplay"]["attempts"] == 2
    assert "still bad" in alert["autoReplay"]["history"][0]
    tags = aws_env.client("s3").get_object_tagging(Bucket=stack.bucket, Key=key)["TagSet"]
    assert {"Key": "harness-auto-replay", "Value": "succeeded"} in tags
    assert key in stack.keys()  # never deleted


def test_auto_replay_gives_up_after_max_attempts_with_an_alert(stack, auto_replay, aws_env) -> None:  # type: ignore[no-untyped-def]
    fake = auto_replay([(None, {"batchItemFailures": [{"itemIdentifier": "800000000003126276362"}]}),
                        ("Unhandled", {"errorMessage": "x"})])
    key = stack.put(esm_key(), envelope(["800000000003126276362"]))
    app.handler(s3_event(stack.bucket, key))
    assert len(fake.payloads) == 2
    [alert] = stack.alerts()
    assert alert["kind"] == "failure" and alert["autoReplay"]["outcome"] == "exhausted"
    assert alert["Subject"].startswith("Auto-replay gave up after 2 attempt(s)")
    tags = aws_env.client("s3").get_object_tagging(Bucket=stack.bucket, Key=key)["TagSet"]
    assert {"Key": "harness-auto-replay", "Value": "exhausted"} in tags


def test_auto_replay_tag_failure_still_alerts_once_and_names_the_error(stack, auto_replay, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A failed tag must neither suppress the alert nor raise (a raise would make Lambda replay the batch again)."""
    fake = auto_replay([(None, {"batchItemFailures": []})])

    def denied(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("AccessDenied: s3:PutObjectTagging")

    monkeypatch.setattr(app, "_tag", denied)
    key = stack.put(esm_key(), envelope(["800000000003126276362"]))
    app.handler(s3_event(stack.bucket, key))
    assert len(fake.payloads) == 1
    [alert] = stack.alerts()
    assert alert["kind"] == "auto-replayed"
    assert "AccessDenied" in alert["autoReplay"]["tagError"]


def test_auto_replay_never_replays_a_malformed_object(stack, auto_replay) -> None:  # type: ignore[no-untyped-def]
    fake = auto_replay([])
    key = stack.put(esm_key(), {"not": "an envelope"})
    app.handler(s3_event(stack.bucket, key))
    assert fake.payloads == []


@pytest.mark.parametrize("env, message", [
    ({"AUTO_REPLAY": "sometimes"}, "AUTO_REPLAY must be 'off' or 'consumer'"),
    ({"AUTO_REPLAY": "consumer"}, "needs AUTO_REPLAY_FUNCTION"),
    ({"AUTO_REPLAY": "consumer", "AUTO_REPLAY_FUNCTION": "f", "AUTO_REPLAY_MAX_ATTEMPTS": "11"},
     "AUTO_REPLAY_MAX_ATTEMPTS must be from 1 to 10"),
    ({"AUTO_REPLAY": "consumer", "AUTO_REPLAY_FUNCTION": "f", "AUTO_REPLAY_DELAY_SECONDS": "soon"},
     "AUTO_REPLAY_DELAY_SECONDS must be a number"),
])
def test_auto_replay_config_errors_name_the_variable(env, message) -> None:  # type: ignore[no-untyped-def]
    auto = load_lambda_module("failure_handler", "auto_replay")
    with pytest.raises(auto.AutoReplayConfigError, match=message):
        auto.policy_from_env(env)


def test_auto_replay_that_cannot_fit_the_timeout_is_refused() -> None:
    auto = load_lambda_module("failure_handler", "auto_replay")
    policy = auto.AutoReplayPolicy("f", 3, 10.0)
    with pytest.raises(auto.AutoReplayConfigError, match="does not fit"):
        auto.check_fits(policy, 25_000)
    auto.check_fits(policy, 31_000)
