"""Backends: where the stack runs. `get_backend(name)` is the only factory the rest uses."""

from __future__ import annotations

from harness.backends.base import Backend, BackendError, BackendInfo

BACKENDS = ("embedded", "localstack", "floci", "aws")


def get_backend(name: str, **kwargs: object) -> Backend:
    """Build (not start) the named backend; an unknown name is an error that lists the known ones."""
    if name == "embedded":
        from harness.backends.embedded import EmbeddedBackend

        return EmbeddedBackend(**kwargs)  # type: ignore[arg-type]
    if name == "localstack":
        from harness.backends.localstack import LocalStackBackend

        return LocalStackBackend(**kwargs)  # type: ignore[arg-type]
    if name == "floci":
        from harness.backends.floci import FlociBackend

        return FlociBackend(**kwargs)  # type: ignore[arg-type]
    if name == "aws":
        from harness.backends.aws import AwsBackend

        return AwsBackend(**kwargs)  # type: ignore[arg-type]
    if name in BACKENDS:
        raise BackendError(f"backend {name!r} is not built yet (issue 6); use 'embedded'")
    raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")


__all__ = ["Backend", "BackendError", "BackendInfo", "get_backend", "BACKENDS"]
