"""A mapping on an alias or version ARN: the invoker is called with `name:qualifier`, and the failure
envelope names the qualified ARN and the version that ran (spec 3.2)."""

from __future__ import annotations

import pytest

from harness.esm.config import parse_mapping
from harness.invoke import InvokeResult

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-06-10T19:26:16.525"
FN = "arn:aws:lambda:us-east-1:123456789012:function:consumer"
SQS = "arn:aws:sqs:us-east-1:123456789012:failures"


@pytest.mark.parametrize("function, invoked", [
    (f"{FN}:live", "consumer:live"),
    (f"{FN}:3", "consumer:3"),
    (f"{FN}:$LATEST", "consumer:$LATEST"),
    (FN, "consumer"),
    ("consumer", "consumer"),
])
def test_spec3_2_the_invoker_is_called_with_the_qualified_name(function: str, invoked: str) -> None:
    cfg = parse_mapping({"EventSourceArn": STREAM, "FunctionName": function, "StartingPosition": "LATEST"})
    assert cfg.invoke_name == invoked
    assert cfg.FunctionName == "consumer"  # the bare name stays what it was


def test_spec3_2_envelope_carries_the_qualified_arn_and_the_executed_version(h) -> None:
    """Spec 3.2 [GAP]: AWS's examples show an unqualified functionArn and "$LATEST"; for a mapping on
    an alias the harness writes the alias ARN (what the mapping names) and the version the invoke
    reported running (Invoke's X-Amz-Executed-Version), here "7"."""
    def respond(indexes: list[int], call: int) -> InvokeResult:
        return InvokeResult(200, b'{"errorMessage":"boom"}', "Unhandled", f"req-{call}", executed_version="7")

    run = h.run({"FunctionName": f"{FN}:live", "BatchSize": 2, "MaximumRetryAttempts": 0,
                 "DestinationConfig": {"OnFailure": {"Destination": SQS}}}, 2, respond)
    [env] = run.deliveries()
    assert env["requestContext"]["functionArn"] == f"{FN}:live"
    assert env["responseContext"] == {"statusCode": 200, "executedVersion": "7", "functionError": "Unhandled"}


def test_spec3_3_records_never_invoked_name_the_alias_and_have_no_response_context(h) -> None:
    """Spec 3.3: records that expire before any invoke get no responseContext (no version ran); the
    functionArn is still the mapping's qualified one."""
    run = h.run({"FunctionName": f"{FN}:live", "MaximumRecordAgeInSeconds": 60,
                 "DestinationConfig": {"OnFailure": {"Destination": SQS}}}, 1,
                lambda idx, c: InvokeResult(200, b"null", None, "r", executed_version="7"), delay=120)
    [env] = run.deliveries()
    assert env["requestContext"]["condition"] == "RecordAgeExceeded"
    assert "responseContext" not in env and run.calls == []
    assert env["requestContext"]["functionArn"] == f"{FN}:live"
