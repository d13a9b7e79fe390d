"""`shardproof faults add` turns flags or a file into the fault entries the running `up` receives."""

from __future__ import annotations

import argparse

import pytest

from harness.up_cli import entries_from_args, register_faults as register


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["faults", "add", *argv])


def test_flags_make_one_fault_entry():
    args = _args(["--fault", "error", "--function", "Consumer", "--times", "2", "--message", "boom",
                  "--match", '{"dynamodb": {"Keys": {"pk": {"S": ["a"]}}}}', "--after-handler"])
    assert entries_from_args(args) == [{"fault": "error", "function": "Consumer", "times": 2, "message": "boom",
                                        "match": {"dynamodb": {"Keys": {"pk": {"S": ["a"]}}}}, "after_handler": True}]
    assert entries_from_args(_args(["--destination-unavailable", "--seconds", "30"])) == [
        {"destination": "unavailable", "seconds": 30.0}]


def test_a_file_holds_a_faults_list(tmp_path):
    f = tmp_path / "faults.yaml"
    f.write_text("faults:\n  - {fault: latency, latency_ms: 200}\n  - {destination: unavailable, times: 1}\n")
    assert entries_from_args(_args(["--file", str(f)])) == [{"fault": "latency", "latency_ms": 200},
                                                            {"destination": "unavailable", "times": 1}]


def test_bad_flags_name_the_flag():
    with pytest.raises(ValueError, match="--match"):
        entries_from_args(_args(["--fault", "error", "--match", "{not json"]))
    with pytest.raises(ValueError, match="--fault KIND"):
        entries_from_args(_args([]))
