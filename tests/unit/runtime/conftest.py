"""Fixtures for the local runtime tests: tiny handler folders written under tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest

from harness.journal import Journal
from harness.runtime import LocalRuntime

HANDLERS = '''
import json, os, sys, time

def ok(event, context):
    return {"echo": event, "ok": True}

def boom(event, context):
    raise ValueError("bad record " + str(event.get("id")))

def sleepy(event, context):
    time.sleep(event.get("sleep", 10))
    return {"slept": True}

def crash(event, context):
    print("about to crash", flush=True)
    os._exit(1)

def segv(event, context):
    import ctypes
    ctypes.string_at(0)

def chatty(event, context):
    print("line one", event.get("n"))
    print("to stderr", event.get("n"), file=sys.stderr)
    import logging
    logging.getLogger().warning("via logging %s", event.get("n"))
    return event.get("n")

def ctx(event, context):
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "aws_request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "env": {k: os.environ.get(k) for k in (
            "AWS_REGION", "LAMBDA_TASK_ROOT", "_HANDLER", "AWS_ENDPOINT_URL", "MY_SETTING",
            "AWS_LAMBDA_FUNCTION_NAME", "AWS_PROFILE")},
        "cwd": os.getcwd(),
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
    }

def pid(event, context):
    time.sleep(event.get("sleep", 0))
    return os.getpid()
'''


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    d = tmp_path / "fn"
    d.mkdir()
    (d / "app.py").write_text(textwrap.dedent(HANDLERS))
    return d


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def runtime(journal: Journal):
    rt = LocalRuntime(journal=journal)
    rt.start()
    yield rt
    rt.stop()


@pytest.fixture
def write_dir(tmp_path: Path) -> Callable[[str, dict[str, str]], Path]:
    def make(name: str, files: dict[str, str]) -> Path:
        d = tmp_path / name
        d.mkdir()
        for fname, text in files.items():
            (d / fname).write_text(textwrap.dedent(text))
        return d

    return make
