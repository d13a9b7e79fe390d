"""A CDK app using NodejsFunction (a TypeScript handler) synthesizes without Docker: the harness puts
a pinned esbuild on the app command's PATH, and the bundle runs in the local Node.js runtime."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.deploy.sources import SourceSpec, open_source
from harness.deploy.sources.cdk_app import uses_nodejs_function

BLOG_APP = Path(__file__).resolve().parents[4] / "examples" / "blog" / "app"
APP_TS = """import { App, Stack } from 'aws-cdk-lib';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';

const app = new App();
const stack = new Stack(app, 'Bundled');
new NodejsFunction(stack, 'Greeter', { entry: 'lambda/handler.ts', handler: 'handler', runtime: Runtime.NODEJS_20_X });
app.synth();
"""


def test_only_an_app_that_names_nodejs_function_gets_esbuild(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("from aws_cdk import aws_lambda_nodejs as nodejs\n")
    assert uses_nodejs_function(tmp_path)
    (tmp_path / "app.py").write_text("from aws_cdk import aws_lambda as lambda_\n")
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "i.js").write_text("NodejsFunction")  # a dependency's code is not the app's
    assert not uses_nodejs_function(tmp_path)


@pytest.mark.timeout(600)
def test_a_typescript_nodejs_function_is_bundled_and_runs(tmp_path: Path) -> None:
    if not (BLOG_APP / "node_modules" / "aws-cdk-lib").is_dir():
        pytest.skip("examples/blog/app/node_modules is not installed (make examples installs it; make test does)")
    app = tmp_path / "app"
    (app / "bin").mkdir(parents=True)
    (app / "lambda").mkdir()
    (app / "node_modules").symlink_to(BLOG_APP / "node_modules")
    for name in ("package.json", "package-lock.json", "tsconfig.json"):
        shutil.copy(BLOG_APP / name, app / name)
    (app / "cdk.json").write_text(json.dumps({"app": "npx tsx bin/app.ts"}))
    (app / "bin" / "app.ts").write_text(APP_TS)
    (app / "lambda" / "shout.ts").write_text("export const shout = (s: string): string => s.toUpperCase() + '!';\n")
    (app / "lambda" / "handler.ts").write_text(
        "import { shout } from './shout';\n"
        "export const handler = async (event: { name: string }) => ({ greeting: shout(event.name) });\n")

    synth = open_source(SourceSpec("app", app), cache_dir=tmp_path / "synth").synthesize()
    [fn] = [r for r in synth.template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    bundle = synth.assembly_dir / fn["Metadata"]["aws:asset:path"]
    assert (bundle / "index.js").is_file() and not (bundle / "handler.ts").exists()  # bundled, not copied

    from harness.runtime import FunctionSpec, LocalRuntime

    with LocalRuntime() as runtime:
        runtime.register(FunctionSpec("greeter", bundle, fn["Properties"]["Handler"], runtime="nodejs20.x"))
        result = runtime.invoke("greeter", b'{"name": "ada"}')
    assert result.function_error is None, result.payload
    assert json.loads(result.payload) == {"greeting": "ADA!"}
