"""The `serverless` stack source without running Serverless: an existing `.serverless/` folder is
read (template + zip artifacts), a v4 service gets a clear error, and the flag / project key name it.
(Packaging with serverless@3 itself is exercised by tests/integration/test_example_serverless.py.)"""

from __future__ import annotations

import argparse
import json
import os
import time
import zipfile
from pathlib import Path

import pytest

from harness.deploy.stack_model import names_logical_id
from harness.deploy.sources import SourceError, SourceSpec, open_source
from harness.cli_support import add_source_arguments
from harness.project import resolve_source_args
from harness.deploy.sources.serverless import ServerlessSource, v4_reason
from harness.project import load_project

TEMPLATE = {"Resources": {
    "ConsumerLambdaFunction": {"Type": "AWS::Lambda::Function", "Properties": {
        "Handler": "src/consumer.handler", "Runtime": "python3.11",
        "Code": {"S3Bucket": {"Ref": "ServerlessDeploymentBucket"}, "S3Key": "serverless/svc/dev/1-x/svc.zip"}}},
    "ServerlessDeploymentBucket": {"Type": "AWS::S3::Bucket"}}}


def service(tmp_path: Path, config: str = "service: svc\nframeworkVersion: '3'\n", *, packaged: bool = True) -> Path:
    folder = tmp_path / "svc"
    (folder / "src").mkdir(parents=True)
    (folder / "serverless.yml").write_text(config)
    (folder / "src" / "consumer.py").write_text("def handler(event, context):\n    return None\n")
    if packaged:
        out = folder / ".serverless"
        out.mkdir()
        (out / "cloudformation-template-update-stack.json").write_text(json.dumps(TEMPLATE))
        (out / "serverless-state.json").write_text(json.dumps({"service": {"service": "svc",
                                                                            "provider": {"stage": "dev"}}}))
        with zipfile.ZipFile(out / "svc.zip", "w") as zf:
            zf.writestr("src/consumer.py", "def handler(event, context):\n    return 'packaged'\n")
        later = time.time() + 5
        for path in out.iterdir():
            os.utime(path, (later, later))
    return folder


def test_a_fresh_package_is_read_with_its_zip_unpacked(tmp_path: Path) -> None:
    folder = service(tmp_path)
    result = ServerlessSource(SourceSpec("serverless", folder), cache_dir=tmp_path / "cache").synthesize()
    assert result.cached and result.stack_name == "svc-dev"
    code = Path(result.template["Resources"]["ConsumerLambdaFunction"]["Metadata"]["aws:asset:path"])
    assert "packaged" in (code / "src" / "consumer.py").read_text()  # the zip's code, not the folder's
    assert code.is_relative_to(tmp_path / "cache")


@pytest.mark.parametrize("config, extra, said", [
    ("service: svc\nframeworkVersion: '4'\n", None, "sets frameworkVersion '4'"),
    ("service: svc\nframeworkVersion: \">=4.0.0\"\n", None, "sets frameworkVersion '>=4.0.0'"),
    ("service: svc\n", {"devDependencies": {"serverless": "^4.4.0"}}, "asks for serverless '^4.4.0'"),
])
def test_a_v4_service_without_a_package_is_a_clear_error(tmp_path: Path, config: str, extra: dict | None,
                                                         said: str) -> None:
    folder = service(tmp_path, config, packaged=False)
    if extra:
        (folder / "package.json").write_text(json.dumps(extra))
    with pytest.raises(SourceError) as err:
        ServerlessSource(SourceSpec("serverless", folder)).synthesize()
    text = str(err.value)
    assert said in text and "needs a login" in text
    assert "serverless package" in text and ".serverless/" in text and "frameworkVersion: '3'" in text


def test_a_v4_service_with_a_package_uses_it_with_a_note(tmp_path: Path) -> None:
    folder = service(tmp_path, "service: svc\nframeworkVersion: '4'\n")
    result = ServerlessSource(SourceSpec("serverless", folder), cache_dir=tmp_path / "cache").synthesize()
    assert any("v4" in n and "used as packaged" in n for n in result.notes)


def test_a_v3_service_with_v4_in_node_modules_is_still_v3(tmp_path: Path) -> None:
    folder = service(tmp_path)
    (folder / "node_modules" / "serverless").mkdir(parents=True)
    (folder / "node_modules" / "serverless" / "package.json").write_text('{"version": "4.2.0"}')
    assert v4_reason(folder, folder / "serverless.yml") is None
    (folder / "serverless.yml").write_text("service: svc\n")
    assert "serverless 4.2.0" in str(v4_reason(folder, folder / "serverless.yml"))


def test_a_folder_without_serverless_yml_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no serverless.yml / serverless.yaml in it"):
        open_source(SourceSpec("serverless", tmp_path))


def test_the_flag_and_the_project_key(tmp_path: Path) -> None:
    folder = service(tmp_path)
    (folder / "shardproof.toml").write_text('serverless = "."\n')
    project = load_project(folder)
    assert project.source.kind == "serverless" and project.source.path == folder
    parser = argparse.ArgumentParser()
    add_source_arguments(parser)
    _, source, _ = resolve_source_args(parser.parse_args(["--serverless", "svc"]), cwd=tmp_path)
    assert isinstance(source, ServerlessSource) and source.spec.path == folder


def test_a_serverless_function_key_names_its_logical_id() -> None:
    assert names_logical_id("ordersConsumer", "OrdersConsumerLambdaFunction")
    assert names_logical_id("orders-consumer_v2", "OrdersDashconsumerUnderscorev2LambdaFunction")
    assert not names_logical_id("orders", "OrdersConsumerLambdaFunction")
