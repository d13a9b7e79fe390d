"""`shardproof init`: finds the stack, writes the project file and two starter scenarios, never overwrites."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from harness.deploy.sources.detect import detect_sources
from harness.scenarios.loader import load_scenarios
from harness.scenarios.starter import consumer_fields

ROOT = Path(__file__).resolve().parents[3]
KINESIS = ROOT / "examples" / "kinesis"

TABLE_TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Orders": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "version", "KeyType": "RANGE"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "version", "AttributeType": "N"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        "Consumer": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "index.handler", "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"ZipFile": "def handler(event, context):\n    return None\n"}}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["Orders", "StreamArn"]}, "FunctionName": {"Ref": "Consumer"},
            "StartingPosition": "TRIM_HORIZON", "MaximumRetryAttempts": 1}},
    },
}


def _kinesis_team_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "team"
    repo.mkdir()
    shutil.copy2(KINESIS / "template.yaml", repo / "template.yaml")
    shutil.copytree(KINESIS / "src", repo / "src")
    return repo


@pytest.mark.parametrize("files, kind, path", [
    ({"cdk.json": "{}"}, "app", "."),
    ({"infra/cdk.json": "{}"}, "app", "infra"),
    ({"payments-stack/cdk.json": "{}", "node_modules/x/cdk.json": "{}"}, "app", "payments-stack"),
    ({"cdk.out/manifest.json": "{}"}, "assembly", "cdk.out"),
    ({"template.yaml": "Transform: AWS::Serverless-2016-10-31\nResources: {}\n"}, "template", "template.yaml"),
    ({"stack.json": json.dumps(TABLE_TEMPLATE)}, "template", "stack.json"),
    ({"serverless.yml": "service: x\n"}, "serverless", "."),
    ({"serverless.yml": "service: x\n",
      ".serverless/cloudformation-template-update-stack.json": "{}"}, "serverless", "."),
])
def test_each_stack_source_is_detected_by_the_files_it_leaves(tmp_path: Path, files: dict, kind: str, path: str) -> None:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    found = detect_sources(tmp_path)
    assert (found[0].kind, found[0].path.as_posix()) == (kind, path)


def test_a_folder_with_no_stack_says_what_was_looked_for(tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.yaml").write_text("just: notes\n")
    assert detect_sources(tmp_path) == []
    assert main(["init", str(tmp_path)]) == 2
    assert "no stack found (looked for cdk.json" in capsys.readouterr().err
    assert not (tmp_path / "shardproof.toml").exists()


def test_the_consumers_fields_come_from_its_handler_module_only() -> None:
    assert consumer_fields(KINESIS / "src", "processor.handle_raising") == ["currency", "amount", "id"]
    assert "bucket" in consumer_fields(KINESIS / "src", "failure_handler.handler")


def test_init_writes_the_project_file_and_scenarios_and_never_overwrites(tmp_path: Path, capsys) -> None:
    repo = _kinesis_team_repo(tmp_path)
    assert main(["init", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "wrote shardproof.toml" in out and "shardproof scenarios run" in out and "pytest scenarios" in out
    assert (repo / "shardproof.toml").read_text().count('template = "template.yaml"') == 1
    scenarios = {sc.name: sc for sc in load_scenarios(repo / "scenarios")}
    assert sorted(scenarios) == sorted(f"{kind}-{p}-processor-stream" for kind in ("good-items", "one-item-fails")
                                       for p in ("payment", "partial-payment", "aging-payment"))
    good = scenarios["good-items-payment-processor-stream"]
    assert good.poison == () and good.items[0] == {"partitionKey": "shardproof-1",
                                                  "data": {"id": "shardproof-1", "currency": "shardproof-1", "amount": 1}}
    failing = scenarios["one-item-fails-aging-payment-processor-stream"]
    assert failing.poison == () and failing.clock == "virtual" and failing.mapping == "AgingPaymentProcessorStream"
    assert [dict(f) for f in failing.faults] == [{"fault": "error", "items": [2]}]
    assert "Data loss: retries are unbounded" in failing.description
    assert "`faults:` makes the consumer fail on it" in (repo / "scenarios" / "02_one_item_fails.yaml").read_text()

    (repo / "scenarios" / "01_good_items.yaml").write_text("# mine\n- {name: mine, items: [{partitionKey: a, data: 1}]}\n")
    assert main(["init", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "kept shardproof.toml" in out and "kept scenarios/01_good_items.yaml (exists; not overwritten)" in out
    assert (repo / "scenarios" / "01_good_items.yaml").read_text().startswith("# mine")


def test_a_table_pipeline_gets_items_of_its_key_schema_and_its_data_loss_said(tmp_path: Path, capsys) -> None:
    (tmp_path / "template.json").write_text(json.dumps(TABLE_TEMPLATE))
    assert main(["init", str(tmp_path)]) == 0
    assert "data loss" in capsys.readouterr().out
    good = yaml.safe_load((tmp_path / "scenarios" / "01_good_items.yaml").read_text())[0]
    assert good["items"][0] == {"pk": "shardproof-1", "version": 1, "id": "shardproof-1"}
    failing = yaml.safe_load((tmp_path / "scenarios" / "02_one_item_fails.yaml").read_text())[0]
    assert failing["items"][2] == {"pk": "shardproof-3", "version": 3, "id": "shardproof-3"}
    assert failing["faults"] == [{"fault": "error", "items": [2]}] and "poison" not in failing
    assert "no on-failure destination" in failing["description"] and "discarded with it" in failing["description"]
