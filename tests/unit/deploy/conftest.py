"""Shared fixtures: one embedded backend per session, and recorders standing in for the
runtime, the ESM engine and the notification service (their own tests cover them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.backends import get_backend
from harness.journal import Journal

ASSEMBLY = Path(__file__).parent / "fixtures" / "assembly"


class FakeRuntime:
    def __init__(self) -> None:
        self.specs: list[Any] = []
        self.versions: list[str] = []  # function names, one per published version
        self.aliases: list[tuple[str, str, str]] = []

    def register(self, spec: Any) -> None:
        self.specs.append(spec)

    def publish_version(self, function_name: str) -> str:
        self.versions.append(function_name)
        return str(self.versions.count(function_name))

    def register_alias(self, function_name: str, alias: str, version: str) -> None:
        self.aliases.append((function_name, alias, version))

    def by_name(self, name: str) -> Any:
        return next(s for s in self.specs if s.name == name)


class FakeEsm:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def create_event_source_mapping(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        uuid = f"00000000-0000-0000-0000-{len(self.calls):012d}"
        return {"UUID": uuid, "State": "Creating", **params}


class FakeNotifications:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def configure(self, bucket: str, config: dict[str, Any]) -> None:
        self.calls.append((bucket, config))


@pytest.fixture(scope="session")
def backend() -> Iterator[Any]:
    with get_backend("embedded") as b:
        yield b


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def fakes() -> dict[str, Any]:
    return {"runtime": FakeRuntime(), "esm": FakeEsm(), "notifications": FakeNotifications()}


@pytest.fixture
def fixture_template() -> dict[str, Any]:
    return json.loads((ASSEMBLY / "Fixture.template.json").read_text())
