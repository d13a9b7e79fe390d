"""The walking skeleton end to end on the embedded backend: the demo's own checks, plus up + deploy."""

import json
import threading

import pytest
from rich.console import Console



@pytest.mark.timeout(600)
def test_demo_pipeline_isolates_poison_alerts_and_archives(tmp_path):
    from harness.demo import run_demo

    result = run_demo(report_dir=tmp_path, console=Console(file=open(tmp_path / "out.txt", "w")))
    failed = [c for c in result.checks if not c.passed]
    assert not failed, "\n".join(f"{c.name}: expected {c.expected!r}, observed {c.observed!r}" for c in failed)
    # The checks themselves must have looked at something: one failure object, parsed.
    assert len(result.facts["failure_objects"]) == 1
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["passed"] is True
    kinds = {json.loads(line)["kind"] for line in (tmp_path / "journal.jsonl").read_text().splitlines()}
    assert {"injected", "invoked", "destination_write", "notification", "function_log"} <= kinds


@pytest.mark.timeout(600)
def test_up_then_deploy_leaves_the_stack_visible_through_the_endpoint(tmp_path):
    from harness.up import request_deploy, serve

    state_file = tmp_path / "up.json"
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            serve(context={}, deploy=False, port=0, console=Console(file=open(tmp_path / "up.txt", "w")),
                  state_file=state_file, stop_event=stop)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        for _ in range(200):
            if state_file.exists() or errors:
                break
            threading.Event().wait(0.05)
        assert not errors and state_file.exists()
        endpoint = json.loads(state_file.read_text())["endpoint_url"]
        outputs = request_deploy({}, state_file=state_file)
        import boto3

        kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        assert outputs["SourceTableName"] in boto3.client("dynamodb", **kw).list_tables()["TableNames"]
        assert outputs["FailureBucketName"] in [b["Name"] for b in boto3.client("s3", **kw).list_buckets()["Buckets"]]
        topics = [t["TopicArn"] for t in boto3.client("sns", **kw).list_topics()["Topics"]]
        assert outputs["AlertTopicArn"] in topics
    finally:
        stop.set()
        thread.join(60)
    assert not errors
    assert not state_file.exists()


def test_deploy_without_up_says_how_to_start_one(tmp_path):
    from harness.up import UpNotRunning, request_deploy

    with pytest.raises(UpNotRunning, match="no `harness up` is running"):
        request_deploy({}, state_file=tmp_path / "absent.json")
