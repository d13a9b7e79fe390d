"""The walking skeleton end to end on the embedded backend: the demo's own checks, plus up + deploy."""

import json
import threading

import pytest
from rich.console import Console



@pytest.mark.timeout(600)
def test_demo_runs_a_scenario_end_to_end_and_writes_the_report(tmp_path):
    """The walking skeleton through `shardproof demo`: deploy, poison, bisect, S3 record, handler, report."""
    from harness.demo import run_demo

    out = open(tmp_path / "out.txt", "w")
    status, result = run_demo(names=["one-poison-bisect"], report_dir=tmp_path / "report",
                              console=Console(file=out, width=160), progress_console=Console(file=out))
    [scenario] = result["scenarios"]
    failed = [c for c in scenario["checks"] if not c["passed"]]
    assert status == 0 and scenario["verdict"] == "pass", failed or scenario["error"]
    names = {c["name"] for c in scenario["checks"]}
    assert {"an alert names each failure record", "every failure object reached each failure handler, which succeeded",
            "failure handler archived each failure object under archive/condition=<condition>/date=.../"} <= names
    assert scenario["conservation"]["lost"] == 0 and scenario["conservation"]["in_failure_records"] == 1
    kinds = {e["kind"] for e in scenario["journal"]}
    assert {"injected", "invoked", "split", "destination_write", "notification", "function_log"} <= kinds
    for name in ("report.html", "report.md", "result.json", "junit.xml"):
        assert (tmp_path / "report" / name).stat().st_size > 0
    assert json.loads((tmp_path / "report" / "result.json").read_text())["scenarios"][0]["name"] == "one-poison-bisect"


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

    with pytest.raises(UpNotRunning, match="no `shardproof up` is running"):
        request_deploy({}, state_file=tmp_path / "absent.json")
