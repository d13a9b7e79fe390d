"""Node.js functions: AWS's runtime interface client (npm `aws-lambda-ric`) on the Node major the
Runtime names, with the AWS SDK for JavaScript v3 on NODE_PATH as the Lambda runtime provides it.

The Node binary is this machine's `node` when its major matches, otherwise npm's
`node-<os>-<arch>@<major>` (the official build), installed once into the harness's cache. The
RIC version follows AWS's runtimes: nodejs24.x runs aws-lambda-ric 4.x (callback handlers are
refused, an unhandled rejection ends the process), nodejs18.x-22.x run 3.x (callbacks work, an
unhandled rejection is posted as Runtime.UnhandledPromiseRejection and then the process exits).
How the native addon the RIC would compile is replaced: see nodejs_bootstrap/bootstrap.mjs.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from harness import toolchain
from harness.runtime.dependencies import node_dependencies
from harness.runtime.languages import Launch
from harness.runtime.spec import FunctionSpec, InvalidFunctionSpec

_RUNTIME = re.compile(r"^nodejs(\d+)\.x$")
MAJORS = (18, 20, 22, 24)
# aws-lambda-ric per Node major: 4.x is what nodejs24.x runs; earlier runtimes keep 3.x's
# behaviour (callback handlers, Runtime.UnhandledPromiseRejection).
RIC_VERSIONS = {18: "3.3.0", 20: "3.3.0", 22: "3.3.0", 24: "4.0.2"}
# The RIC's entry module: 4.x starts itself on import; 3.x exports run(appRoot, handler).
_RIC_ENTRY = {"3": "dist/index.mjs", "4": "index.mjs"}
# The AWS SDK for JavaScript v3 clients the Lambda Node.js runtimes ship and handlers import
# without bundling. Pinned; docs/runtime.md lists them.
SDK_PACKAGES: tuple[tuple[str, str], ...] = (
    ("@aws-sdk/client-s3", "3.1169.0"),
    ("@aws-sdk/client-sns", "3.1169.0"),
    ("@aws-sdk/client-sqs", "3.1169.0"),
    ("@aws-sdk/client-dynamodb", "3.1162.0"),
    ("@aws-sdk/lib-dynamodb", "3.1162.0"),
    ("@aws-sdk/client-lambda", "3.1162.0"),
    ("@aws-sdk/client-kinesis", "3.1143.0"),
    ("@aws-sdk/client-eventbridge", "3.1169.0"),
    ("@aws-sdk/client-ses", "3.1169.0"),
    ("@aws-sdk/client-sesv2", "3.1169.0"),
    ("@aws-sdk/client-ssm", "3.1169.0"),
    ("@aws-sdk/client-sts", "3.1169.0"),
)
BOOTSTRAP = Path(__file__).resolve().parent / "nodejs_bootstrap" / "bootstrap.mjs"


@functools.lru_cache(maxsize=None)
def _node_version(executable: str) -> str | None:
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.startswith("v") else None


def _major(version: str) -> int:
    return int(version.lstrip("v").split(".", 1)[0])


def select_node(major: int, *, journal: Any = None) -> tuple[Path, str]:
    """(node executable, its version): the machine's `node` if its major matches, else npm's build."""
    machine = shutil.which("node")
    if machine is not None:
        version = _node_version(machine)
        if version is not None and _major(version) == major:
            return Path(machine), version
    exe = toolchain.node_binary(major, journal=journal)
    version = _node_version(str(exe))
    if version is None or _major(version) != major:
        raise toolchain.ToolchainError(f"{exe} does not run as Node.js {major} (reports {version!r})")
    return exe, version


def sdk_modules(*, journal: Any = None) -> Path:
    return toolchain.npm_install(SDK_PACKAGES, key="npm/aws-sdk-js-v3-lambda-runtime-set-1", journal=journal)


def ric(major: int, *, journal: Any = None) -> tuple[Path, str]:
    """(aws-lambda-ric's folder, its entry module relative to it) for this Node major."""
    version = RIC_VERSIONS[major]
    return toolchain.npm_package("aws-lambda-ric", version, journal=journal), _RIC_ENTRY[version.split(".")[0]]


class NodejsKind:
    name = "nodejs"
    runtimes = tuple(f"nodejs{m}.x" for m in MAJORS)

    def serves(self, runtime: str) -> bool:
        match = _RUNTIME.match(runtime)
        return match is not None and int(match.group(1)) in MAJORS

    def prepare(self, spec: FunctionSpec, *, journal: Any) -> Launch:
        match = _RUNTIME.match(spec.runtime)
        assert match is not None
        major = int(match.group(1))
        try:
            node, version = select_node(major, journal=journal)
            ric_dir, entry = ric(major, journal=journal)
            sdk = sdk_modules(journal=journal)
        except toolchain.ToolchainError as exc:
            raise InvalidFunctionSpec(f"function {spec.name!r} ({spec.runtime}): {exc}") from None
        # AWS: /opt/nodejs/node24/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task
        node_path = []
        deps = node_dependencies(spec.name, spec.code_dir, major, journal=journal)
        if deps is not None:  # what a build would have put in the code folder's node_modules
            node_path.append(str(deps))
        for layer in spec.layers:
            node_path += [str(layer / "nodejs" / f"node{major}" / "node_modules"), str(layer / "nodejs" / "node_modules")]
        # Not the RIC's own node_modules: its dependencies (node-gyp, tar...) are not the function's.
        node_path += [str(sdk), str(spec.code_dir)]
        environment = {
            "NODE_PATH": os.pathsep.join(node_path),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_RUNTIME_DIR": str(ric_dir),
            # The function's child processes and `#!/usr/bin/env node` scripts get the same Node.
            "PATH": os.pathsep.join([str(node.parent), os.environ.get("PATH", "")]),
        }
        return Launch(
            runtime=spec.runtime, language=self.name, version=version, executable=node,
            argv=(str(node), str(BOOTSTRAP), str(ric_dir), entry), environment=environment,
        )


KIND = NodejsKind()
