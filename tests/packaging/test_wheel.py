"""The wheel a team installs: built from this checkout, installed into a fresh virtualenv beside an older
boto3 pin, it must carry everything the runtime needs and stay small.

Slow (a build and a full install, about a minute with a warm pip cache): run by `.ci/run`, and locally
with `SHARDPROOF_SLOW_TESTS=1 pytest tests/packaging`. The size and install time it measures are
printed (`-s`) for the record.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_VENV_MB = 300
TEAM_PIN = "boto3==1.38.0"  # an older pin a team may hold; the tool must install beside it

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("SHARDPROOF_SLOW_TESTS") != "1",
                       reason="slow (wheel build + fresh venv): set SHARDPROOF_SLOW_TESTS=1 (.ci/run does)"),
]


# One cheap call per service the embedded backend serves: moto loads a service's module (and its extra
# dependencies) on its first request, so a missing extra shows here and not in a team's first run.
PROBE = """
from harness.backends import get_backend
calls = {"dynamodb": "list_tables", "dynamodbstreams": "list_streams", "s3": "list_buckets",
         "sqs": "list_queues", "sns": "list_topics", "kinesis": "list_streams", "events": "list_rules",
         "iam": "list_roles", "sts": "get_caller_identity", "kms": "list_keys", "logs": "describe_log_groups",
         "ses": "list_identities", "ssm": "describe_parameters", "cloudwatch": "list_metrics"}
backend = get_backend("embedded")
backend.start()
try:
    for service, call in calls.items():
        getattr(backend.client(service), call)()
    backend.client("events").put_rule(Name="probe", EventPattern='{"source": ["probe"]}')
finally:
    backend.stop()
print("services answered:", ", ".join(calls))
"""


def _run(*cmd: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


# Left out of the copy the wheel is built from: setuptools builds in the source folder, and a `build/`
# from an earlier build would put modules that no longer exist into the wheel.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "node_modules", "cdk.out",
                                    ".harness", "reports", "__pycache__", ".import_linter_cache")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source") / "shardproof"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source)
    (found,) = out.glob("shardproof-*.whl")
    return found


def test_wheel_carries_the_runtime_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    bootstrap = sorted(p.relative_to(ROOT).as_posix()
                       for p in (ROOT / "harness/runtime/languages/nodejs_bootstrap").rglob("*") if p.is_file())
    assert bootstrap, "no Node.js bootstrap files in the checkout"
    missing = [p for p in bootstrap if p not in names]
    assert not missing, f"the wheel lacks {missing}"
    assert not [n for n in names if n.startswith(("tests/", "infra/", "examples/", "scenarios/"))]
    modules = {n for n in names if n.startswith("harness/") and n.endswith(".py")}
    stale = [m for m in modules if not (ROOT / m).is_file()]
    assert not stale, f"the wheel carries modules the checkout does not have: {stale}"


def test_wheel_installs_beside_an_older_boto3_and_stays_small(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    started = time.monotonic()
    _run(bin_dir / "python", "-m", "pip", "install", "--quiet", TEAM_PIN, wheel)
    install_s = time.monotonic() - started
    freeze = _run(bin_dir / "python", "-m", "pip", "freeze").stdout
    assert TEAM_PIN in freeze.splitlines(), f"the team's pin was replaced:\n{freeze}"
    for heavy in ("aws-cdk-lib", "cfn-lint", "sympy", "networkx"):
        assert f"{heavy}==" not in freeze.lower(), f"{heavy} is installed with the tool"
    size = _size_mb(env_dir)
    print(f"\nfresh venv with shardproof and {TEAM_PIN}: {size:.0f} MB, pip install {install_s:.0f} s")
    assert size < MAX_VENV_MB, f"the venv weighs {size:.0f} MB (limit {MAX_VENV_MB} MB)"
    for command in ("shardproof", "harness"):
        help_text = _run(bin_dir / command, "--help").stdout
        assert "init" in help_text and "scenarios" in help_text, help_text
    # The plugin is registered and the embedded backend starts with the moto extras the tool takes.
    _run(bin_dir / "python", "-m", "pytest", "--help", cwd=tmp_path)
    _run(bin_dir / "python", "-c", PROBE, cwd=tmp_path)
