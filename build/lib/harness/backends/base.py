"""What every backend offers: lifecycle, health, a description, and boto3 clients.

Nothing backend-specific lives outside `harness/backends/`: the rest of the harness reaches
AWS (or an emulator) only through `Backend.client(...)` and `Backend.lambda_environment()`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

# Fixed, obviously fake credentials for local backends: never a real secret in a log.
LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}


class BackendError(RuntimeError):
    """A backend could not start, answer, or stop; the message names which and why."""


@dataclass(frozen=True)
class BackendInfo:
    """What a report shows about the backend a run used."""

    name: str
    endpoint_url: str | None
    region: str
    account_id: str
    details: dict[str, Any] = field(default_factory=dict)


class Backend(abc.ABC):
    """A place the stack runs. Use as a context manager: started on enter, stopped on exit."""

    name: str = "abstract"

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self._clients: dict[str, Any] = {}

    @property
    @abc.abstractmethod
    def endpoint_url(self) -> str | None:
        """Where boto3 sends requests; None means AWS's own endpoints."""

    @property
    def account_id(self) -> str:
        return LOCAL_ACCOUNT_ID

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    @abc.abstractmethod
    def healthy(self) -> bool:
        """True when the backend answers requests now."""

    def describe(self) -> BackendInfo:
        return BackendInfo(self.name, self.endpoint_url, self.region, self.account_id)

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client bound to this backend; cached per service when no config is given."""
        if not config and service in self._clients:
            return self._clients[service]
        client = boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, **config),
            **self._credentials(),
        )
        if not config:
            self._clients[service] = client
        return client

    def _credentials(self) -> dict[str, str]:
        return dict(LOCAL_CREDENTIALS)

    def lambda_environment(self) -> dict[str, str]:
        """Variables a Lambda process needs to reach this backend with an unchanged boto3."""
        env = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
            env["AWS_ACCESS_KEY_ID"] = LOCAL_CREDENTIALS["aws_access_key_id"]
            env["AWS_SECRET_ACCESS_KEY"] = LOCAL_CREDENTIALS["aws_secret_access_key"]
        return env

    def __enter__(self) -> "Backend":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
