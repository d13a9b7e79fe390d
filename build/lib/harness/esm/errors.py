"""Error types of the ESM engine, kept apart so every module can raise them without cycles."""

from __future__ import annotations


class EsmValidationError(ValueError):
    """A mapping parameter AWS would reject; the message is AWS's text where the spec quotes it,
    otherwise AWS's generic validation wording naming the field at fault."""


class DestinationDeliveryError(RuntimeError):
    """An on-failure record could not be written (spec 7.3): counted, never silently lost."""
