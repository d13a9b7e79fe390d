"""`shardproof up` / `shardproof deploy`: what is left behind when `up` fails, and the client's errors."""

from __future__ import annotations

import json
import socket
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from rich.console import Console

from harness.deploy.synth import SynthError
from harness.up import UpNotRunning, UpStateError, read_up_state, request_deploy, serve


@contextmanager
def running_up(tmp_path: Path, state_file: Path, source: object = None) -> Iterator[None]:
    """`shardproof up` serving in a thread until the block ends; it must start, and stop cleanly."""
    stop = threading.Event()
    failed: list[BaseException] = []

    def run_up() -> None:
        try:
            serve(context={}, deploy=False, port=0, console=Console(file=open(tmp_path / "up.txt", "w")),
                  state_file=state_file, stop_event=stop, source=source)
        except BaseException as exc:  # noqa: BLE001 (reported by the assertions below)
            failed.append(exc)

    thread = threading.Thread(target=run_up, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if state_file.exists() or failed:
                break
            threading.Event().wait(0.1)
        assert not failed
        yield
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive() and not failed and not state_file.exists()


def test_a_failed_first_deploy_leaves_no_state_file_and_closes_the_control_port(tmp_path: Path) -> None:
    state_file = tmp_path / "up.json"
    seen: dict[str, str] = {}
    real_write = Path.write_text

    def spy(self: Path, data: str, *args: object, **kwargs: object) -> int:
        if self.parent == state_file.parent and self.name.startswith(state_file.name):  # up.json or its .tmp
            seen.update(json.loads(data))
        return real_write(self, data, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Path, "write_text", spy)
        with pytest.raises(SynthError, match="context key 1 must be a string"):
            serve(context={1: "x"}, deploy=True, port=0, console=Console(file=open(tmp_path / "up.txt", "w")),
                  state_file=state_file, stop_event=_already_set())
    assert seen["control_url"].startswith("http://127.0.0.1:")
    assert not state_file.exists()
    port = int(seen["control_url"].rsplit(":", 1)[1])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def _already_set() -> threading.Event:
    """So that a serve() that wrongly got past the deploy returns instead of waiting forever."""
    event = threading.Event()
    event.set()
    return event


def test_request_deploy_names_a_corrupt_state_file(tmp_path: Path) -> None:
    state_file = tmp_path / "up.json"
    state_file.write_text("{not json")
    with pytest.raises(UpNotRunning, match=f"{state_file}.*not JSON"):
        request_deploy({}, state_file=state_file)
    state_file.write_text(json.dumps({"endpoint_url": "http://127.0.0.1:1"}))
    with pytest.raises(UpNotRunning, match=f"{state_file}.*control_url"):
        request_deploy({}, state_file=state_file)


def test_request_deploy_to_something_else_on_the_control_port(tmp_path: Path) -> None:
    """A killed `up` leaves up.json behind; whatever listens on its port later is not mistaken for it."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class NotUp(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            status = 404 if self.path == "/deploy" else 200
            self.send_response(status)
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.write(b"<html/>\n\n")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotUp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        state_file = tmp_path / "up.json"
        state_file.write_text(json.dumps({"control_url": f"http://127.0.0.1:{server.server_port}"}))
        with pytest.raises(RuntimeError, match=f"at http://127.0.0.1:{server.server_port} answered HTTP 404"):
            request_deploy({}, state_file=state_file)
        state_file.write_text(json.dumps({"control_url": f"http://127.0.0.1:{server.server_port}/elsewhere"}))
        with pytest.raises(UpNotRunning, match="did not answer like `shardproof up`.*stale"):
            request_deploy({}, state_file=state_file)
    finally:
        server.shutdown()
        server.server_close()


def test_control_port_answers_bad_requests_with_the_reason_and_deploys_nothing(tmp_path: Path) -> None:
    import http.client
    from http.server import ThreadingHTTPServer

    from harness.up import _handler

    deployed: list[object] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 _handler(lambda ctx, spec: deployed.append((ctx, spec)) or {"A": "1"}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        def post(body: bytes, length: str) -> tuple[int, dict]:
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
            conn.putrequest("POST", "/deploy")
            conn.putheader("Content-Length", length)
            conn.endheaders(body)
            resp = conn.getresponse()
            answer = (resp.status, json.loads(resp.read()))
            conn.close()
            return answer

        assert post(b"[1]", "3") == (500, {"error": "ValueError: the deploy request must be a JSON object, got list"})
        assert post(b'{"context": [1]}', "16") == (
            500, {"error": "ValueError: the deploy context must be a JSON object, got list"})
        status, answer = post(b"{}", "two")
        assert status == 500 and answer["error"].startswith("ValueError: invalid literal for int()")
        assert deployed == []
        body = b'{"context": {"k": 1}, "source": {"kind": "template", "path": "/t.yaml", "stack": null}}'
        assert post(body, str(len(body))) == (200, {"outputs": {"A": "1"}})
        assert deployed == [({"k": 1}, {"kind": "template", "path": "/t.yaml", "stack": None})]
    finally:
        server.shutdown()
        server.server_close()


def test_read_up_state_is_none_without_a_running_up_and_the_state_when_there_is_one(tmp_path: Path) -> None:
    state_file = tmp_path / "up.json"
    assert read_up_state(state_file) is None
    state_file.write_text(json.dumps({"endpoint_url": "http://127.0.0.1:1", "region": "eu-west-1"}))
    assert read_up_state(state_file) == {"endpoint_url": "http://127.0.0.1:1", "region": "eu-west-1"}


@pytest.mark.parametrize(("content", "reason"), [
    ("{not json", "is not JSON"),
    ("[1, 2]", "it holds a list"),
    ('{"endpoint_url": 5}', "endpoint_url must be a string, got int"),
    ('{"control_url": null}', "control_url must be a string, got NoneType"),
])
def test_read_up_state_names_the_file_and_says_to_restart_up(tmp_path: Path, content: str, reason: str) -> None:
    state_file = tmp_path / "up.json"
    state_file.write_text(content)
    with pytest.raises(UpStateError, match=f"^{state_file}.*{reason}.*restart `shardproof up`"):
        read_up_state(state_file)


def test_an_unreadable_state_file_is_an_error_not_no_up(tmp_path: Path) -> None:
    state_file = tmp_path / "up.json"
    state_file.mkdir()  # reading a directory fails with an OSError other than FileNotFoundError
    with pytest.raises(UpStateError, match=f"^{state_file} cannot be read.*restart `shardproof up`"):
        read_up_state(state_file)


def test_deploy_and_replay_cli_report_a_corrupt_state_file_in_the_same_words(tmp_path: Path, monkeypatch,
                                                                             capsys) -> None:
    """One reader: `shardproof deploy` and `shardproof failures` must not disagree about the same file."""
    import argparse

    from harness import up
    from harness.replay.cli import register

    state_file = tmp_path / "up.json"
    state_file.write_text('{"endpoint_url": ')
    with pytest.raises(UpNotRunning) as deploy_error:
        request_deploy({}, state_file=state_file)
    monkeypatch.setattr(up, "STATE_FILE", state_file)
    parser = argparse.ArgumentParser(prog="harness")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["failures", "list", "--bucket", "b"])
    assert args.func(args) == 2
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert str(deploy_error.value) in err


ASSEMBLY = Path(__file__).parent / "fixtures" / "assembly"


def test_up_records_the_deployed_stacks_failure_bucket_for_harness_failures(tmp_path: Path, monkeypatch,
                                                                            capsys) -> None:
    """Before a deploy up.json has no failure_buckets; each deploy rewrites it with the S3 on-failure
    destinations of the stack's mappings, and `shardproof failures list` needs no --bucket then."""
    import argparse

    from harness import up
    from harness.deploy import synth
    from harness.replay.cli import register

    template = json.loads((ASSEMBLY / "Fixture.template.json").read_text())

    class FixtureSource:  # the stack `up` deploys by default (its --app/--template...)
        accepts_context = True

        def synthesize(self, context=None):
            return synth.SynthResult(template=template, assembly_dir=ASSEMBLY, stack_name="Fixture", cached=True)

        def label(self) -> str:
            return "fixture assembly"

    state_file = tmp_path / "up.json"
    monkeypatch.setattr(up, "STATE_FILE", state_file)
    with running_up(tmp_path, state_file, FixtureSource()):
        assert "failure_buckets" not in read_up_state(state_file)
        outputs = request_deploy({}, state_file=state_file)
        state = read_up_state(state_file)
        assert state["failure_buckets"] == [outputs["FailureBucketName"]]

        import boto3

        s3 = boto3.client("s3", endpoint_url=state["endpoint_url"], region_name=state["region"],
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.put_object(Bucket=outputs["FailureBucketName"], Key="aws/lambda/u/shard/junk", Body=b"nope")
        parser = argparse.ArgumentParser(prog="harness")
        register(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(["failures", "list", "--json"])
        assert args.func(args) == 0
        assert [row["key"] for row in json.loads(capsys.readouterr().out)] == ["aws/lambda/u/shard/junk"]


def test_failure_buckets_are_the_s3_destinations_of_the_stacks_own_mappings() -> None:
    from types import SimpleNamespace

    from harness.up import failure_buckets

    def mapping(uuid: str, destination: str | None) -> dict:
        return {"UUID": uuid, "DestinationConfig": {"OnFailure": {"Destination": destination} if destination else {}}}

    esm = SimpleNamespace(list_event_source_mappings=lambda: [
        mapping("u1", "arn:aws:s3:::b-two"), mapping("u2", "arn:aws:s3:::b-one"), mapping("u3", "arn:aws:s3:::b-one"),
        mapping("u4", "arn:aws:sqs:us-east-1:123456789012:dlq"), mapping("u5", None),
        mapping("other-stack", "arn:aws:s3:::not-ours")])
    stack = SimpleNamespace(mappings={f"M{i}": f"u{i}" for i in range(1, 6)})
    assert failure_buckets(stack, esm) == ["b-one", "b-two"]
    assert failure_buckets(SimpleNamespace(mappings={"M": "u4"}), esm) == []


KINESIS_TEMPLATE = Path(__file__).resolve().parents[3] / "examples" / "kinesis" / "template.yaml"


@pytest.mark.timeout(300)
def test_harness_deploy_names_another_stack_source_for_the_running_up(tmp_path: Path, monkeypatch) -> None:
    """`shardproof deploy --template FILE` asks the running `up` to deploy that stack (here a SAM
    template with Kinesis streams), not the project's; the failure bucket follows it into up.json."""
    from harness import up
    from harness.deploy.sources import SourceSpec

    state_file = tmp_path / "up.json"
    monkeypatch.setattr(up, "STATE_FILE", state_file)
    with running_up(tmp_path, state_file):
        with pytest.raises(RuntimeError, match="template"):
            request_deploy({"batchSize": 5}, source=SourceSpec("template", KINESIS_TEMPLATE), state_file=state_file)
        request_deploy({}, source=SourceSpec("template", KINESIS_TEMPLATE), state_file=state_file)
        state = read_up_state(state_file)
        import boto3

        kinesis = boto3.client("kinesis", endpoint_url=state["endpoint_url"], region_name=state["region"],
                               aws_access_key_id="testing", aws_secret_access_key="testing")
        assert len(kinesis.list_streams()["StreamNames"]) == 3
        assert len(state["failure_buckets"]) == 1


@pytest.mark.timeout(300)
def test_faults_add_list_clear_against_the_running_up(tmp_path: Path, monkeypatch) -> None:
    """`shardproof faults add/list/clear`: a fault added live applies to the next invocation it
    selects (journaled as fault_injected), is listed with its count, and is gone after clear; a
    fault naming an unknown function or a scenario's items is refused naming the fault and field."""
    import time

    import boto3

    from harness import up
    from harness.deploy.sources import SourceSpec
    from harness.up import request_faults

    state_file = tmp_path / "up.json"
    monkeypatch.setattr(up, "STATE_FILE", state_file)
    with running_up(tmp_path, state_file):
        with pytest.raises(RuntimeError, match="no stack is deployed"):
            request_faults("POST", [{"fault": "error"}], state_file=state_file)
        request_deploy({}, source=SourceSpec("template", KINESIS_TEMPLATE), state_file=state_file)
        with pytest.raises(RuntimeError, match=r"faults\[0\]: field 'function': 'Nobody' names no function"):
            request_faults("POST", [{"fault": "error", "function": "Nobody"}], state_file=state_file)
        with pytest.raises(RuntimeError, match=r"faults\[0\]: field 'items'"):
            request_faults("POST", [{"fault": "error", "function": "PaymentProcessor", "items": [1]}],
                           state_file=state_file)
        added = request_faults("POST", [{"fault": "error", "function": "PaymentProcessor", "times": 1,
                                         "match": {"data": {"amount": [40]}}}], state_file=state_file)["added"]
        assert added[0]["fault"] == "error" and added[0]["function"] != "PaymentProcessor"  # the function's name
        state = read_up_state(state_file)
        kinesis = boto3.client("kinesis", endpoint_url=state["endpoint_url"], region_name=state["region"],
                               aws_access_key_id="testing", aws_secret_access_key="testing")
        name = next(n for n in kinesis.list_streams()["StreamNames"] if "Partial" not in n and "Aging" not in n)
        kinesis.put_record(StreamName=name, PartitionKey="c1", Data=json.dumps({"id": "p", "amount": 40}).encode())
        journal = Path(state["journal"])
        for _ in range(200):
            text = journal.read_text() if journal.exists() else ""
            if '"fault_injected"' in text:
                break
            time.sleep(0.1)
        injected = [json.loads(line) for line in journal.read_text().splitlines() if '"fault_injected"' in line]
        assert [(e["fault"], e["fault_index"]) for e in injected] == [("error", 0)]
        assert [(f["fault"], f["applied"]) for f in request_faults("GET", state_file=state_file)["faults"]] == [
            ("error", 1)]
        assert request_faults("DELETE", state_file=state_file) == {"cleared": 1}
        assert request_faults("GET", state_file=state_file)["faults"] == []
