"""harness.toolchain: tools from npm and PyPI installed once per machine into the user cache."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness import toolchain
from harness.runtime.languages.nodejs import sdk_modules

needs_npm = pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None,
                               reason="Node.js and npm are needed")

_RACER = """
import sys, time
from pathlib import Path
from harness import toolchain

def build(folder):
    with open(sys.argv[1], "a") as log:
        log.write("built\\n")
    time.sleep(0.5)
    (folder / "tool").write_text("ok")

print(toolchain.install_once("race-key", "race tool", build))
"""


def test_two_processes_installing_the_same_tool_build_it_once(tmp_path: Path) -> None:
    env = {"HARNESS_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    log = tmp_path / "builds.log"
    procs = [subprocess.Popen([sys.executable, "-c", _RACER, str(log)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[3])
             for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert log.read_text() == "built\n"
    paths = {out.strip() for out, _ in outs}
    assert len(paths) == 1 and (Path(paths.pop()) / "tool").read_text() == "ok"
    assert sum("installing race tool (once" in err for _, err in outs) == 1


def test_a_failed_install_leaves_nothing_and_is_retried(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))

    def broken(folder: Path) -> None:
        (folder / "half").write_text("x")
        raise toolchain.ToolchainError("boom")

    with pytest.raises(toolchain.ToolchainError, match="boom"):
        toolchain.install_once("k", "tool k", broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".locks"]
    built = toolchain.install_once("k", "tool k", lambda folder: (folder / "whole").write_text("y"))
    assert (built / "whole").read_text() == "y" and not (built / "half").exists()


def test_run_tool_failure_names_the_command_and_its_stderr() -> None:
    with pytest.raises(toolchain.ToolchainError, match=r"(?s)doing x: .*exit 3.*went wrong"):
        toolchain.run_tool([sys.executable, "-c", "import sys; sys.stderr.write('went wrong'); sys.exit(3)"],
                           what="doing x")
    with pytest.raises(toolchain.ToolchainError, match="not installed or not on PATH"):
        toolchain.run_tool(["harness-no-such-tool"], what="doing y")


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SHARDPROOF_CACHE_DIR", raising=False)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))  # the former name still works
    assert toolchain.cache_dir() == tmp_path
    monkeypatch.setenv("SHARDPROOF_CACHE_DIR", str(tmp_path / "new"))  # and the new name wins
    assert toolchain.cache_dir() == tmp_path / "new"
    monkeypatch.delenv("SHARDPROOF_CACHE_DIR")
    monkeypatch.delenv("HARNESS_CACHE_DIR")
    assert toolchain.cache_dir() == Path.home() / ".cache" / "shardproof"


@needs_npm
def test_npm_package_is_the_pinned_version_without_install_scripts() -> None:
    ric = toolchain.npm_package("aws-lambda-ric", "4.0.2")
    assert json.loads((ric / "package.json").read_text())["version"] == "4.0.2"
    assert not (ric / "rapid-client.node").exists()  # its postinstall (a native build) never ran
    assert toolchain.npm_package("aws-lambda-ric", "4.0.2") == ric


@needs_npm
def test_node_binary_is_nodes_own_build_of_that_major() -> None:
    node = toolchain.node_binary(24)
    out = subprocess.run([str(node), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("v24.")


@needs_npm
def test_esbuild_platform_binary_bundles_typescript_without_install_scripts(tmp_path: Path) -> None:
    exe = toolchain.esbuild()
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert version == toolchain.ESBUILD_VERSION
    (tmp_path / "lib.ts").write_text("export const double = (n: number): number => n * 2;\n")
    (tmp_path / "index.ts").write_text(textwrap.dedent("""
        import { double } from "./lib";
        import { S3Client } from "@aws-sdk/client-s3";
        export const handler = async (event: { n: number }) => ({ doubled: double(event.n), sdk: typeof S3Client });
    """))
    out = tmp_path / "out" / "index.js"
    subprocess.run([str(exe), str(tmp_path / "index.ts"), "--bundle", "--platform=node", "--target=node20",
                    "--format=cjs", "--external:@aws-sdk/*", f"--outfile={out}"], check=True, capture_output=True)
    script = f"require({json.dumps(str(out))}).handler({{n: 21}}).then((r) => console.log(r.doubled))"
    ran = subprocess.run(["node", "-e", script], capture_output=True, text=True, cwd=tmp_path)
    # The SDK is external (the runtime provides it): without NODE_PATH the require fails, as it should.
    assert "Cannot find module '@aws-sdk/client-s3'" in ran.stderr
    sdk = sdk_modules()  # the SDK set Node.js functions get
    ran = subprocess.run(["node", "-e", script], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "NODE_PATH": str(sdk)})
    assert ran.stdout.strip() == "42", ran.stderr
