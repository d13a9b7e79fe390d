"""The `failures list|show` and `replay` subcommands, driven through argparse as harness/cli.py will."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

import pytest

from harness import up as harness_up
from harness.replay import cli as replay_cli
from harness.replay.cli import ReplayCliError, parse_time, register
from replay_objects import BUCKET, TABLE, put_failure, stream_record


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="harness")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def conn(aws, monkeypatch, tmp_path):
    monkeypatch.setattr(harness_up, "STATE_FILE", tmp_path / "absent.json")
    monkeypatch.setenv("COLUMNS", "300")  # rich folds narrow tables
    return ["--bucket", BUCKET, "--endpoint-url", aws.endpoint_url]


def test_failures_list_json_and_table(aws, conn, capsys, minutes):
    s3 = aws.client("s3")
    key = put_failure(s3, [stream_record(1, "order#1"), stream_record(2, "order#2")], when=minutes(1))
    s3.put_object(Bucket=BUCKET, Key="aws/lambda/junk", Body=b"nope")
    assert run(["failures", "list", *conn, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    good = [r for r in rows if r["ok"]][0]
    assert good["key"] == key and good["batch_size"] == 2 and good["invoke_count"] == 3
    assert good["function"] == "consumer" and good["condition"] == "RetryAttemptsExhausted"
    assert "object is not JSON" in [r for r in rows if not r["ok"]][0]["error"]
    assert run(["failures", "list", *conn, "--match", "pk=order#9", "--json"]) == 0
    assert [r["key"] for r in json.loads(capsys.readouterr().out)] == ["aws/lambda/junk"]  # malformed stays visible
    assert run(["failures", "list", *conn]) == 0
    out = capsys.readouterr().out
    assert "MALFORMED" in out and "RetryAttemptsExhausted" in out


def test_failures_show(aws, conn, capsys):
    key = put_failure(aws.client("s3"), [stream_record(7, "order#7")])
    assert run(["failures", "show", key, *conn, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["payload_records"][0]["dynamodb"]["Keys"] == {"pk": {"S": "order#7"}}
    assert out["envelope"]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert run(["failures", "show", key, *conn]) == 0
    assert "pk=order#7" in capsys.readouterr().out
    assert run(["failures", "show", "aws/lambda/none", *conn]) == 2
    assert "aws/lambda/none" in capsys.readouterr().err


def test_replay_dry_run_then_execute_then_no_op(aws, conn, capsys):
    put_failure(aws.client("s3"), [stream_record(1, "a"), stream_record(2, "b")])
    table = ["--target", "table", "--table", TABLE]
    assert run(["replay", *conn, *table]) == 0
    assert "DRY RUN" in capsys.readouterr().out
    assert aws.client("dynamodb").scan(TableName=TABLE)["Count"] == 0
    assert run(["replay", *conn, *table, "--execute", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"replayed": 2}
    assert run(["replay", *conn, *table, "--execute", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"already-replayed": 2}


def test_replay_exit_status_is_non_zero_on_failure(aws, conn, capsys):
    put_failure(aws.client("s3"), [stream_record(1, "a", view="KEYS_ONLY")])
    assert run(["replay", *conn, "--target", "table", "--table", TABLE, "--execute"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_replay_argument_errors_are_one_line_exit_2(aws, conn, capsys):
    assert run(["replay", *conn, "--target", "table"]) == 2
    assert "--target table needs --table" in capsys.readouterr().err
    assert run(["replay", *conn, "--target", "table", "--table", TABLE, "--since", "yesterday"]) == 2
    assert "--since 'yesterday'" in capsys.readouterr().err
    assert run(["replay", *conn, "--target", "table", "--table", "missing"]) == 2
    assert "table 'missing' does not exist" in capsys.readouterr().err
    assert run(["replay", *conn, "--target", "table", "--table", TABLE, "--match", "novalue"]) == 2
    assert run(["replay", *conn, "--target", "table", "--table", TABLE, "--rate", "0"]) == 2
    assert "rate 0.0" in capsys.readouterr().err
    for rate in ("inf", "nan"):  # int(inf) raised OverflowError once the limiter let it through
        assert run(["replay", *conn, "--target", "table", "--table", TABLE, "--rate", rate]) == 2
        assert f"rate {rate} must be a positive number" in capsys.readouterr().err


def test_consumer_target_refuses_moto_lambda(aws, conn, capsys):
    assert run(["replay", *conn, "--target", "consumer", "--function-name", "f"]) == 2
    assert "embedded (moto) backend" in capsys.readouterr().err


def test_foreign_owner_refused_by_cli(aws, conn, capsys):
    # the bucket belongs to the caller (123456789012), so it is not 999999999999's
    assert run(["failures", "list", *conn, "--expected-owner", "999999999999"]) == 2
    assert "not owned by account 999999999999" in capsys.readouterr().err
    assert run(["failures", "list", *conn, "--expected-owner", "123456789012", "--json"]) == 0


def test_default_endpoint_comes_from_harness_up_state(aws, monkeypatch, tmp_path, capsys):
    state = tmp_path / "up.json"
    state.write_text(json.dumps({"endpoint_url": aws.endpoint_url, "region": "us-east-1"}))
    monkeypatch.setattr(harness_up, "STATE_FILE", state)
    put_failure(aws.client("s3"), [stream_record(1, "a")])
    assert run(["failures", "list", "--bucket", BUCKET, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


@pytest.mark.parametrize("content", ["{\"endpoint_url\": \"http://127.0.0.1:4", "[1, 2]", "{\"endpoint_url\": 5}"])
def test_a_corrupt_harness_up_state_is_an_error_naming_the_file_not_a_silent_switch_to_aws(
        monkeypatch, tmp_path, capsys, content):
    state = tmp_path / "up.json"
    state.write_text(content)
    monkeypatch.setattr(harness_up, "STATE_FILE", state)
    monkeypatch.setattr(replay_cli.Connection, "client", lambda *a, **k: pytest.fail("no AWS call may be made"))
    assert run(["failures", "list", "--bucket", BUCKET, "--json"]) == 2
    err = capsys.readouterr().err
    assert "up.json" in err and "--endpoint-url" in err


def test_no_harness_up_state_means_the_documented_aws_default(monkeypatch, tmp_path):
    monkeypatch.setattr(harness_up, "STATE_FILE", tmp_path / "absent.json")
    assert replay_cli.Connection(None, "eu-west-1").endpoint_url is None


def _up_json(monkeypatch, tmp_path, aws, **extra):
    state = tmp_path / "up.json"
    state.write_text(json.dumps({"endpoint_url": aws.endpoint_url, "region": "us-east-1", **extra}))
    monkeypatch.setattr(harness_up, "STATE_FILE", state)


def test_bucket_defaults_to_the_one_failure_bucket_of_the_stack_in_harness_up(aws, monkeypatch, tmp_path, capsys):
    _up_json(monkeypatch, tmp_path, aws, failure_buckets=[BUCKET])
    key = put_failure(aws.client("s3"), [stream_record(1, "a")])
    assert run(["failures", "list", "--json"]) == 0
    assert [r["key"] for r in json.loads(capsys.readouterr().out)] == [key]
    assert run(["failures", "show", key, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["key"] == key
    assert run(["replay", "--target", "table", "--table", TABLE, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["objects"] == 1


@pytest.mark.parametrize(("extra", "reason"), [
    ({"failure_buckets": ["b-one", "b-two"]}, "has 2 failure buckets (b-one, b-two); pass --bucket"),
    ({"failure_buckets": []}, "--bucket is required: the stack deployed in the running `shardproof up` has no S3"),
    ({}, "--bucket is required: the running `shardproof up` has no stack deployed yet"),
])
def test_no_single_failure_bucket_in_harness_up_is_an_error_saying_why(aws, monkeypatch, tmp_path, capsys,
                                                                        extra, reason):
    _up_json(monkeypatch, tmp_path, aws, **extra)
    for argv in (["failures", "list"], ["failures", "show", "k"], ["replay", "--target", "table", "--table", TABLE]):
        assert run(argv) == 2
        assert reason in " ".join(capsys.readouterr().err.split())


def test_without_harness_up_or_on_another_endpoint_bucket_is_required(aws, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(harness_up, "STATE_FILE", tmp_path / "absent.json")
    assert run(["failures", "list", "--endpoint-url", aws.endpoint_url]) == 2
    assert "--bucket is required: no `shardproof up` is running" in capsys.readouterr().err
    _up_json(monkeypatch, tmp_path, aws, failure_buckets=[BUCKET])
    assert run(["failures", "list", "--endpoint-url", "http://127.0.0.1:9"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--bucket is required: --endpoint-url http://127.0.0.1:9 is not the running `shardproof up`'s" in err


def test_parse_time_iso_and_relative():
    now = datetime(2024, 6, 10, 12, 0, tzinfo=timezone.utc)
    assert parse_time("2h", flag="--since", now=now) == datetime(2024, 6, 10, 10, 0, tzinfo=timezone.utc)
    assert parse_time("2024-06-10T08:00:00Z", flag="--since") == datetime(2024, 6, 10, 8, 0, tzinfo=timezone.utc)
    assert parse_time("2024-06-10", flag="--since").tzinfo is not None
    with pytest.raises(ReplayCliError, match="--until 'x'"):
        parse_time("x", flag="--until")
