"""A Node.js handler's unbundled AWS SDK for JavaScript v3 reaches the embedded backend through
AWS_ENDPOINT_URL, as it reaches AWS on Lambda: the SDK is on the path the way the runtime ships it."""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest

from harness.backends import get_backend
from harness.runtime import FunctionSpec, LocalRuntime

pytestmark = pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None,
                                reason="Node.js and npm are needed for Node.js functions")

# ES module: imports of bare names resolve from NODE_PATH as on Lambda (not from node_modules).
WRITER_ESM = """
import { S3Client, PutObjectCommand } from "@aws-sdk/client-s3";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";

const s3 = new S3Client({});  // no endpoint: AWS_ENDPOINT_URL decides, as on AWS
const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event) => {
  await s3.send(new PutObjectCommand({ Bucket: process.env.BUCKET, Key: event.key, Body: JSON.stringify(event) }));
  await ddb.send(new PutCommand({ TableName: process.env.TABLE, Item: { pk: event.key, n: event.n } }));
  return { written: event.key };
};
"""

# CommonJS: require() reads NODE_PATH itself.
READER_CJS = """
const { S3Client, GetObjectCommand } = require("@aws-sdk/client-s3");
const s3 = new S3Client({});
exports.handler = async (event) => {
  const out = await s3.send(new GetObjectCommand({ Bucket: process.env.BUCKET, Key: event.key }));
  return JSON.parse(await out.Body.transformToString());
};
"""


@pytest.fixture(scope="module")
def backend():
    with get_backend("embedded") as b:
        yield b


@pytest.mark.parametrize("runtime", ["nodejs20.x", "nodejs24.x"])
def test_sdk_v3_writes_s3_and_dynamodb_on_the_embedded_backend(backend, tmp_path, runtime: str) -> None:
    tag = runtime.replace(".", "")
    bucket, table = f"node-sdk-{tag}", f"node-sdk-{tag}"
    backend.client("s3").create_bucket(Bucket=bucket)
    dynamodb = backend.client("dynamodb")
    dynamodb.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    code = tmp_path / "fn"
    code.mkdir()
    (code / "writer.mjs").write_text(textwrap.dedent(WRITER_ESM))
    (code / "reader.js").write_text(textwrap.dedent(READER_CJS))
    env = {"BUCKET": bucket, "TABLE": table}
    with LocalRuntime(base_environment=backend.lambda_environment()) as rt:
        rt.register(FunctionSpec("writer", code, "writer.handler", runtime=runtime, environment=env, timeout_s=20))
        rt.register(FunctionSpec("reader", code, "reader.handler", runtime=runtime, environment=env, timeout_s=20))
        written = rt.invoke("writer", b'{"key": "k1", "n": 5}')
        assert written.function_error is None, written.payload
        read = rt.invoke("reader", b'{"key": "k1"}')
        assert read.function_error is None, read.payload
    assert json.loads(read.payload) == {"key": "k1", "n": 5}
    body = backend.client("s3").get_object(Bucket=bucket, Key="k1")["Body"].read()
    assert json.loads(body) == {"key": "k1", "n": 5}
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "k1"}})["Item"]
    assert item == {"pk": {"S": "k1"}, "n": {"N": "5"}}


# What CDK's LogRetention provider does (aws-cdk-lib's log-retention-handler, bundled with the SDK
# left external because the runtime provides it): this failed its init with
# "Cannot find module '@aws-sdk/client-cloudwatch-logs'" when only a fixed set of clients was installed.
LOG_RETENTION_CJS = """
const logs = require("@aws-sdk/client-cloudwatch-logs");
const sfn = require("@aws-sdk/client-sfn");
const client = new logs.CloudWatchLogsClient({});
exports.handler = async (event) => {
  const name = event.ResourceProperties.LogGroupName;
  await client.send(new logs.CreateLogGroupCommand({ logGroupName: name }));
  await client.send(new logs.PutRetentionPolicyCommand({ logGroupName: name,
                                                         retentionInDays: Number(event.ResourceProperties.RetentionInDays) }));
  return { PhysicalResourceId: name, sfnClient: typeof sfn.SFNClient };
};
"""


def test_a_client_outside_the_preinstalled_set_is_installed_on_first_use(backend, tmp_path) -> None:
    code = tmp_path / "log-retention"
    code.mkdir()
    (code / "index.js").write_text(textwrap.dedent(LOG_RETENTION_CJS))
    event = {"RequestType": "Create", "ResourceProperties": {"LogGroupName": "/aws/lambda/consumer", "RetentionInDays": "14"}}
    with LocalRuntime(base_environment=backend.lambda_environment()) as rt:
        rt.register(FunctionSpec("log-retention", code, "index.handler", runtime="nodejs22.x", timeout_s=30))
        result = rt.invoke("log-retention", json.dumps(event).encode())
    assert result.function_error is None, result.payload
    assert json.loads(result.payload) == {"PhysicalResourceId": "/aws/lambda/consumer", "sfnClient": "function"}
    (group,) = backend.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/consumer")["logGroups"]
    assert group["retentionInDays"] == 14


def test_sdk_imports_are_read_from_the_code_not_its_node_modules(tmp_path) -> None:
    from harness.runtime.languages.nodejs import sdk_imports

    (tmp_path / "lib").mkdir()
    (tmp_path / "index.mjs").write_text('import { SFNClient } from "@aws-sdk/client-sfn";\n'
                                        'const { x } = require ( "@aws-sdk/client-s3/dist-cjs" );\n')
    (tmp_path / "lib" / "a.cjs").write_text("const m = await import('@aws-sdk/util-dynamodb');")
    (tmp_path / "node_modules" / "dep").mkdir(parents=True)
    (tmp_path / "node_modules" / "dep" / "i.js").write_text('require("@aws-sdk/client-iam")')
    (tmp_path / "notes.txt").write_text('require("@aws-sdk/client-ec2")')
    assert sdk_imports(tmp_path) == {"@aws-sdk/client-sfn", "@aws-sdk/client-s3", "@aws-sdk/util-dynamodb"}


def test_an_sdk_package_npm_cannot_install_is_journaled_once_asked_once(tmp_path, monkeypatch) -> None:
    """The function then fails its init with Node's own "Cannot find module", as on AWS."""
    from harness import toolchain
    from harness.journal import Journal
    from harness.runtime.languages import nodejs

    calls = []

    def refuse(packages, **kwargs):
        calls.append(packages)
        raise toolchain.ToolchainError("npm: 404 Not Found")

    monkeypatch.setattr(toolchain, "npm_install", refuse)
    monkeypatch.setattr(nodejs, "_UNINSTALLABLE", {})
    (tmp_path / "index.js").write_text('require("@aws-sdk/client-does-not-exist")')
    journal = Journal()
    for _ in range(2):
        assert nodejs.extra_sdk_modules("fn", tmp_path, [], journal=journal) == []
    assert calls == [[("@aws-sdk/client-does-not-exist", f"<={nodejs.SDK_CEILING}")]]
    assert [e["package"] for e in journal.entries("runtime_sdk_missing")] == ["@aws-sdk/client-does-not-exist"] * 2
