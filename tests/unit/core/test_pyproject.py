"""pyproject.toml: the licence is an SPDX string, which only setuptools>=77 reads (older ones warned about
the table form on every install); the dependencies are ranges a team's pins can sit beside, and this
repository's exact versions (constraints.txt) lie inside them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = ROOT / "pyproject.toml"
SAMPLE_ONLY = {"aws-cdk-lib", "constructs", "cdk-nag"}  # the sample CDK app's own (infra/requirements.txt)


def _config() -> dict:
    return tomllib.loads(PYPROJECT.read_text())


def test_the_license_is_an_spdx_string_and_the_build_needs_a_setuptools_that_reads_it() -> None:
    config = _config()
    assert config["project"]["license"] == "Apache-2.0"
    [setuptools] = [Requirement(r) for r in config["build-system"]["requires"] if Requirement(r).name == "setuptools"]
    assert not setuptools.specifier.contains("76.9") and setuptools.specifier.contains("77.0.0")


def _requirements() -> list[Requirement]:
    config = _config()
    listed = [*config["project"]["dependencies"], *config["project"]["optional-dependencies"]["test"]]
    infra = (ROOT / "infra" / "requirements.txt").read_text().splitlines()
    listed += [line.split("#")[0].strip() for line in infra if line.split("#")[0].strip()]
    return [Requirement(r) for r in listed]


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def test_runtime_dependencies_are_ranges_with_a_floor_and_a_ceiling() -> None:
    for raw in _config()["project"]["dependencies"]:
        operators = {s.operator for s in Requirement(raw).specifier}
        assert ">=" in operators and "<" in operators, f"{raw}: a range needs a tested floor (>=) and a ceiling (<)"


def test_the_tool_leaves_out_the_sample_cdk_libraries_and_motos_server_extra() -> None:
    runtime = [Requirement(r) for r in _config()["project"]["dependencies"]]
    assert not SAMPLE_ONLY & {_norm(r.name) for r in runtime}
    (moto,) = [r for r in runtime if r.name == "moto"]
    assert not {"server", "all", "proxy", "cloudformation"} & moto.extras, "these pull cfn-lint, sympy, networkx"
    assert {_norm(r.name) for r in runtime} >= {"pytest", "flask", "flask-cors"}


def test_constraints_pin_every_dependency_inside_its_range() -> None:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_norm(name)] = version.strip()
    for req in _requirements():
        assert _norm(req.name) in pins, f"{req.name} is not pinned in constraints.txt (run `make lock`)"
        assert req.specifier.contains(pins[_norm(req.name)]), f"constraints.txt pins {req.name}=={pins[_norm(req.name)]}, outside {req}"
