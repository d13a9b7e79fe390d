"""`shardproof scenarios` argument handling (no scenario is run)."""

from __future__ import annotations

import argparse

import pytest

from harness.scenarios.cli import register


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harness")
    register(p.add_subparsers(dest="command", required=True))
    return p


def test_run_parses_names_and_outputs() -> None:
    args = parser().parse_args(["scenarios", "run", "a", "b", "--backend", "embedded", "--json", "r.json",
                                "--junit", "j.xml", "--report-dir", "rep"])
    assert (args.names, args.backend, args.json_path, args.junit_path, args.report_dir) == (
        ["a", "b"], "embedded", "r.json", "j.xml", "rep")


def test_unknown_scenario_exits_2_with_the_known_names(capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["scenarios", "run", "no-such-scenario"])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert "no-such-scenario" in err and "one-poison-bisect" in err


def test_list_prints_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["scenarios", "list"])
    assert args.func(args) == 0
    assert "retry-exhaustion" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--esm", "native"], "esm='native' needs a backend with its own event source mappings"),
])
def test_run_refuses_a_wiring_that_cannot_run_before_any_work(argv: list[str], message: str,
                                                              capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.scenarios.runner as runner

    monkeypatch.setattr(runner, "prewarm_synth", lambda *a, **k: pytest.fail("synthesized before refusing"))
    args = parser().parse_args(["scenarios", "run", "one-poison-bisect", *argv])
    assert args.func(args) == 2
    assert message in capsys.readouterr().err


def test_run_scenario_with_an_impossible_wiring_leaves_no_temp_dir(tmp_path, monkeypatch) -> None:
    import tempfile

    from harness.pipeline import PipelineError
    from harness.scenarios import load_scenarios, run_scenario

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(PipelineError, match="esm='native'"):
        run_scenario(load_scenarios()[0], esm="native")
    assert list(tmp_path.iterdir()) == []
