"""The Serverless Framework example (examples/serverless), as its team wrote it: packaged offline by
serverless@3's `serverless package` (no account), deployed from `.serverless/`, and its scenarios
judged: good orders processed; a poison order isolated into the SQS queue by bisect (spec 2.1),
then replayed from the queue's failure record after the fix (spec 3.4, 3.5)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.cli import main
from harness.deploy.sources import SourceSpec, open_source
from harness.scenarios.junit import failure_message

pytestmark = pytest.mark.timeout(300)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "serverless"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example without any `.serverless/`, so the test really packages it."""
    folder = tmp_path_factory.mktemp("sls") / "orders"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".serverless", ".harness", "__pycache__"))
    return folder


def test_the_service_packages_offline_then_reuses_its_package(service: Path) -> None:
    source = open_source(SourceSpec("serverless", service), cache_dir=service / ".harness" / "synth")
    first = source.synthesize()
    assert not first.cached and first.stack_name == "orders-sls-dev"
    fn = first.template["Resources"]["OrdersConsumerLambdaFunction"]
    code = Path(fn["Metadata"]["aws:asset:path"])
    assert (code / "src" / "consumer.py").is_file()  # the zip `serverless package` built, unpacked
    again = source.synthesize()
    assert again.cached and again.template == first.template  # .serverless/ newer than the sources
    (service / "src" / "consumer.py").touch()
    (service / "scenarios" / "01_good_orders.yaml").touch()  # a scenario is not a source
    assert not source.synthesize().cached


def test_scenarios_run_with_the_serverless_flag(service: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`shardproof scenarios run NAME --serverless DIR --scenarios DIR --json FILE`, as a team would run it.
    (Every scenario of examples/serverless also runs as a pytest item through the plugin.)"""
    monkeypatch.chdir(tmp_path)  # no project file here: the flags name everything
    out = tmp_path / "result.json"
    status = main(["scenarios", "run", "sls-poison-isolated-then-replayed", "--serverless", str(service),
                   "--scenarios", str(service / "scenarios"), "--json", str(out)])
    (sc,) = json.loads(out.read_text())["scenarios"]
    assert status == 0 and sc["verdict"] == "pass", sc["error"] or failure_message(sc)
    assert sc["expected"]["pipeline"]["destination"].split(":")[2] == "sqs"
    (replay, again) = sc["observed"]["extra"]["replay_steps"]
    assert replay["counts"] == {"replayed": 1} and again["counts"] == {"already-replayed": 1}
