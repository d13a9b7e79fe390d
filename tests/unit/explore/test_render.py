"""The terminal table: sorted by the rule, deployed and recommended rows marked, changed settings highlighted."""

from __future__ import annotations

from rich.console import Console

from harness.explore import explore, parse_sets
from harness.explore.render import render_table

from .stacks import base


def test_table_is_sorted_marks_rows_and_highlights_changed_settings() -> None:
    result = explore(base(BatchSize=8, MaximumRetryAttempts=1), parse_sets(["BisectBatchOnFunctionError=false,true"]))
    console = Console(record=True, width=200, force_terminal=True, color_system="standard")
    render_table(result, console)
    plain = console.export_text(clear=False)
    lines = [ln for ln in plain.splitlines() if ln.startswith("│")]
    assert "recommended" in lines[0] and "true" in lines[0]  # bisect on: the poison alone, first
    assert "deployed" in lines[1] and "false" in lines[1]
    styled = console.export_text(styles=True)
    # the recommended row's bisect value differs from the deployed one: bold yellow (SGR 1;33)
    assert "\x1b[1;33mtrue" in styled and "\x1b[1;33mfalse" not in styled
