"""The consumer's concurrent projection writes: per-item order, overlap across items, outcomes logged
in record order, and the raising mode's stop on a failed write."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from lambdas_testkit import load_lambda_module  # type: ignore[import-not-found]

app = load_lambda_module("stream_consumer", "app")
keyed = load_lambda_module("stream_consumer", "keyed")
SEQ = 200000000000000000000


def image(n: int, status: str = "NEW") -> dict:
    return {"pk": {"S": f"order#{n:04d}"}, "orderId": {"S": f"{n:04d}"}, "amount": {"N": "3"},
            "currency": {"S": "EUR"}, "status": {"S": status}}


def rec(seq: int, name: str, n: int, status: str = "NEW") -> dict:
    ddb: dict = {"SequenceNumber": str(seq), "Keys": {"pk": {"S": f"order#{n:04d}"}}}
    if name != "REMOVE":
        ddb["NewImage"] = image(n, status)
    return {"eventID": uuid.uuid4().hex, "eventName": name, "dynamodb": ddb}


class Probe:
    """Runs `work` items with a short sleep, recording overlap overall and per key."""

    def __init__(self, fail: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.lock = threading.Lock()
        self.running: dict[str, int] = {}
        self.now = 0
        self.peak = 0
        self.peak_per_key = 0
        self.started: list[int] = []
        self.fail = fail

    def __call__(self, item: tuple[int, str]) -> str:
        i, key = item
        with self.lock:
            self.started.append(i)
            self.now += 1
            self.running[key] = self.running.get(key, 0) + 1
            self.peak = max(self.peak, self.now)
            self.peak_per_key = max(self.peak_per_key, self.running[key])
        time.sleep(0.01)
        with self.lock:
            self.now -= 1
            self.running[key] -= 1
        if i in self.fail:
            raise RuntimeError(f"write {i} failed")
        return f"done{i}"


def test_run_by_key_overlaps_items_but_never_one_key() -> None:
    items = [(i, f"k{i % 5}") for i in range(40)]
    probe = Probe()
    began = time.perf_counter()
    out = keyed.run_by_key(items, lambda it: it[1], probe, width=8, stop_on_error=True)
    elapsed = time.perf_counter() - began
    assert out == [f"done{i}" for i in range(40)]
    assert probe.peak == 5 and probe.peak_per_key == 1
    assert elapsed < 40 * 0.01 * 0.6  # five chains overlapped: well under the one-by-one time
    for k in range(5):  # every key's writes started in item order
        started = [i for i in probe.started if i % 5 == k]
        assert started == sorted(started)


def test_run_by_key_width_one_is_a_plain_loop() -> None:
    items = [(i, f"k{i % 3}") for i in range(9)]
    probe = Probe()
    keyed.run_by_key(items, lambda it: it[1], probe, width=1, stop_on_error=True)
    assert probe.started == list(range(9)) and probe.peak == 1


def test_run_by_key_stop_on_error_starts_nothing_new() -> None:
    items = [(i, "same") for i in range(6)] + [(6, "other")]
    probe = Probe(fail={2})
    out = keyed.run_by_key(items, lambda it: it[1], probe, width=1, stop_on_error=True)
    assert out[:2] == ["done0", "done1"] and isinstance(out[2], RuntimeError) and out[3:] == [None] * 4
    probe = Probe(fail={2})
    out = keyed.run_by_key(items, lambda it: it[1], probe, width=4, stop_on_error=False)
    assert isinstance(out[2], RuntimeError) and out[3:6] == ["done3", "done4", "done5"]  # the key goes on


def test_repeated_keys_keep_stream_order_and_logs_follow_records(aws_env, backend, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    name = f"projection-{uuid.uuid4().hex[:8]}"
    backend.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    monkeypatch.setenv("PROJECTION_TABLE", name)
    monkeypatch.delenv("REPORT_BATCH_ITEM_FAILURES", raising=False)
    statuses = ["NEW", "PAID", "SHIPPED", "CANCELLED"]
    batch = []
    for step in range(4):  # 12 items, each changed four times, interleaved
        for n in range(12):
            batch.append(rec(SEQ + step * 100 + n, "INSERT" if step == 0 else "MODIFY", n, statuses[step]))
    batch.append(rec(SEQ + 999, "REMOVE", 3))
    capsys.readouterr()
    assert app.handler({"Records": batch}) is None
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["sequenceNumber"] for line in lines] == [r["dynamodb"]["SequenceNumber"] for r in batch]
    assert [line["outcome"] for line in lines] == ["projected"] * 48 + ["deleted"]
    ddb = backend.client("dynamodb")
    for n in range(12):
        item = ddb.get_item(TableName=name, Key={"pk": {"S": f"order#{n:04d}"}}, ConsistentRead=True).get("Item")
        if n == 3:
            assert item is None
        else:
            assert item["status"] == {"S": "CANCELLED"} and item["lastSequenceNumber"] == {"S": str(SEQ + 300 + n)}


class FlakyClient:
    """put_item fails (not a condition failure) for one key; counts calls per key."""

    def __init__(self, bad_pk: str) -> None:
        self.bad_pk = bad_pk
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def put_item(self, **kw: object) -> dict:
        pk = kw["Item"]["pk"]["S"]  # type: ignore[index]
        with self.lock:
            self.calls.append(pk)
        if pk == self.bad_pk:
            raise ConnectionError("throttled")
        return {}


def test_raising_mode_write_failure_raises_and_stops_the_failed_item(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PROJECTION_TABLE", "t")
    monkeypatch.delenv("REPORT_BATCH_ITEM_FAILURES", raising=False)
    monkeypatch.setenv("PROJECTION_WRITE_CONCURRENCY", "1")
    fake = FlakyClient("order#0001")
    monkeypatch.setattr(app, "_client", lambda service: fake)
    batch = [rec(SEQ + 1, "INSERT", 0), rec(SEQ + 2, "INSERT", 1), rec(SEQ + 3, "MODIFY", 1), rec(SEQ + 4, "INSERT", 2)]
    capsys.readouterr()
    with pytest.raises(ConnectionError, match="throttled"):
        app.handler({"Records": batch})
    assert fake.calls == ["order#0000", "order#0001"]  # width 1: exactly the one-by-one behaviour
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["outcome"], line["sequenceNumber"]) for line in lines] == [("projected", str(SEQ + 1)),
                                                                           ("write_failed", str(SEQ + 2))]
    monkeypatch.setenv("PROJECTION_WRITE_CONCURRENCY", "8")
    fake.calls.clear()
    with pytest.raises(ConnectionError, match="throttled"):
        app.handler({"Records": batch})
    assert fake.calls.count("order#0001") == 1  # the failed item's later change never starts
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert ("write_failed", str(SEQ + 2)) in [(line["outcome"], line["sequenceNumber"]) for line in lines]
    assert str(SEQ + 3) not in [line["sequenceNumber"] for line in lines]


@pytest.mark.parametrize("value", ["0", "-2", "many", "65"])
def test_bad_concurrency_names_the_variable(monkeypatch, value: str) -> None:
    monkeypatch.setenv("PROJECTION_TABLE", "t")
    monkeypatch.setenv("PROJECTION_WRITE_CONCURRENCY", value)
    with pytest.raises(app.ConfigError, match="PROJECTION_WRITE_CONCURRENCY"):
        app.handler({"Records": []})
