"""Fixtures for the report tests; the data itself lives in report_testkit.py (--import-mode=importlib
puts no test folder on sys.path, so the folder is added here)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report_testkit  # noqa: E402


@pytest.fixture
def demo_result() -> dict[str, Any]:
    return report_testkit.load_demo()


@pytest.fixture
def journal() -> list[dict[str, Any]]:
    return report_testkit.synthetic_journal()


@pytest.fixture
def rich_result() -> dict[str, Any]:
    return report_testkit.rich_result()
