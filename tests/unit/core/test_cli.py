"""The CLI's error handling: bad input gets one clear line naming the thing at fault, exit 2."""

import pytest

from harness.cli import main
from harness.cli_support import CliError
from harness.cli_support import parse_context as _parse_context


def test_context_values_parse_as_json_when_they_can():
    assert _parse_context(["batchSize=10", "bisect=false", "name=abc"]) == {
        "batchSize": 10, "bisect": False, "name": "abc"}


def test_context_without_equals_is_refused():
    with pytest.raises(CliError, match="'batchSize' must look like key=value"):
        _parse_context(["batchSize"])


def test_simulate_missing_spec_file_is_one_line_naming_it(tmp_path, capsys):
    assert main(["simulate", "--spec", str(tmp_path / "nope.json")]) == 2
    assert "nope.json" in capsys.readouterr().err


def test_simulate_non_json_spec_names_line_and_column(tmp_path, capsys):
    spec = tmp_path / "bad.json"
    spec.write_text("{\n  mapping: 1}")
    assert main(["simulate", "--spec", str(spec)]) == 2
    assert "line 2 column 3" in capsys.readouterr().err
