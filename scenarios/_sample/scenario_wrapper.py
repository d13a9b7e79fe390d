"""Scenario-only wrapper around the real stream consumer (deployed next to a copy of its code).

Why a wrapper: timeouts, crashes and odd partial-batch responses (spec 1, 2.3) are behaviours of
a *function*, not of the data; the real consumer must stay unchanged, so the scenario deploys this
module as the handler and it delegates to `app.handler` except where its mode says otherwise.
Selected by the environment variable SCENARIO_WRAPPER:

- timeout:           a batch holding a poison order sleeps past the function timeout
- crash:             a batch holding a poison order kills the process (os._exit)
- partial-malformed: a batch the consumer reports failures for answers with an itemIdentifier
                     that is not in the batch (spec 2.3: complete failure, functionError null)
- success-shapes:    answers each batch with one of the spec 2.3 success shapes
                     ([], null list, {}, null, ""), chosen by the batch's first order number
- swallow:           catches every record's error and reports success (a buggy consumer;
                     used by mutation tests to prove the judge notices lost poison records)
- flaky:             orders listed in FLAKY_INDEXES fail their first FLAKY_TIMES deliveries
- fixed:             "v2" consumer that accepts refunds: a negative amount is taken as its
                     absolute value (used to replay failures after the fix)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import app  # the real consumer, copied next to this file
from orders import InvalidRecord, parse_order

SHAPES: list[Any] = [{"batchItemFailures": []}, {"batchItemFailures": None}, {}, None, ""]

if os.environ.get("SCENARIO_WRAPPER") == "timeout":
    # Init work belongs to the init phase, which the function timeout does not count (as on AWS):
    # building the boto3 client lazily inside the first invoke could itself pass a short timeout
    # on a busy machine and time out a batch that holds no poison.
    app._client("dynamodb")


def _index(record: dict[str, Any]) -> int | None:
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    order_id = (image.get("orderId") or {}).get("S", "")
    tail = order_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _is_poison(record: dict[str, Any]) -> bool:
    try:
        parse_order((record.get("dynamodb") or {}).get("NewImage"))
    except InvalidRecord:
        return True
    return False


def _log(**fields: Any) -> None:
    print(json.dumps({"wrapper": os.environ.get("SCENARIO_WRAPPER"), **fields}, sort_keys=True), flush=True)


def _deliveries(record: dict[str, Any]) -> int:
    """Count deliveries of one record across worker processes (a file per sequence number)."""
    state = Path(os.environ["FLAKY_STATE_DIR"])
    path = state / record["dynamodb"]["SequenceNumber"]
    n = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(n))
    return n


def handler(event: dict[str, Any], context: Any = None) -> Any:
    mode = os.environ.get("SCENARIO_WRAPPER", "")
    records = event.get("Records") or []
    if mode == "timeout" and any(_is_poison(r) for r in records):
        _log(action="sleeping past the timeout")
        time.sleep(600)
    if mode == "crash" and any(_is_poison(r) for r in records):
        _log(action="crashing the process")
        sys.stdout.flush()
        os._exit(137)
    if mode == "partial-malformed":
        result = app.handler(event, context)
        if isinstance(result, dict) and result.get("batchItemFailures"):
            _log(action="malformed response", real=result)
            return {"batchItemFailures": [{"itemIdentifier": "123"}]}
        return result
    if mode == "success-shapes":
        app.handler(event, context)
        first = _index(records[0]) if records else 0
        shape = SHAPES[((first or 0) // int(os.environ.get("SHAPE_BATCH", "10"))) % len(SHAPES)]
        _log(action="success shape", shape=shape)
        return shape
    if mode == "swallow":
        for r in records:
            try:
                app.handler({"Records": [r]}, context)
            except Exception as exc:  # the bug this mode stands for
                _log(action="swallowed", error=str(exc))
        return None
    if mode == "flaky":
        flaky = {int(x) for x in os.environ.get("FLAKY_INDEXES", "").split(",") if x.strip()}
        times = int(os.environ.get("FLAKY_TIMES", "1"))
        counts = {id(r): _deliveries(r) for r in records if _index(r) in flaky}
        for r in records:
            if id(r) in counts and counts[id(r)] <= times:
                raise RuntimeError(f"transient failure of order {_index(r)} (delivery {counts[id(r)]} of {times})")
            app.handler({"Records": [r]}, context)
        return None
    if mode == "fixed":
        for r in records:
            image = (r.get("dynamodb") or {}).get("NewImage") or {}
            amount = image.get("amount")
            if isinstance(amount, dict) and str(amount.get("N", "")).startswith("-"):
                image["amount"] = {"N": amount["N"][1:]}
        return app.handler(event, context)
    return app.handler(event, context)
