"""pyproject.toml: the licence is an SPDX string, which only setuptools>=77 reads (older ones warned about
the table form on every install), and every runtime dependency is pinned exactly."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def _config() -> dict:
    return tomllib.loads(PYPROJECT.read_text())


def test_the_license_is_an_spdx_string_and_the_build_needs_a_setuptools_that_reads_it() -> None:
    config = _config()
    assert config["project"]["license"] == "Apache-2.0"
    [setuptools] = [Requirement(r) for r in config["build-system"]["requires"] if Requirement(r).name == "setuptools"]
    assert not setuptools.specifier.contains("76.9") and setuptools.specifier.contains("77.0.0")


def test_runtime_dependencies_are_pinned_exactly() -> None:
    for raw in _config()["project"]["dependencies"]:
        specs = list(Requirement(raw).specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{raw} is not pinned with =="
