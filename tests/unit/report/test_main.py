"""`python -m harness.report`: re-render a saved result; bad input exits 2 naming the file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.report.__main__ import main

FIXTURE = Path(__file__).parent / "fixtures" / "demo_result.json"


def test_renders_a_saved_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(FIXTURE), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.html").is_file() and (tmp_path / "report.md").is_file()
    assert f"html: {tmp_path / 'report.html'}" in capsys.readouterr().out


def test_bad_result_exits_2_with_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"scenarios": [{"name": "x", "verdict": "ok"}]}))
    assert main([str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "scenario 'x'.verdict" in err
    assert not (tmp_path / "out").exists()


def test_unreadable_json_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main([str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "Expecting property name" in capsys.readouterr().err
