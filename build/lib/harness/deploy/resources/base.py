"""What every resource handler receives and returns."""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable


@dataclass(frozen=True)
class Created:
    """A created resource: `physical_id` is what Ref returns, `attributes` what Fn::GetAtt reads."""

    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeployContext:
    """Everything a handler may touch. Handlers reach the backend only through `backend.client`."""

    stack_name: str
    region: str
    account_id: str
    assembly_dir: Path
    backend: Any
    runtime: Any = None
    esm: Any = None
    notifications: Any = None
    journal: Any = None
    template: dict[str, Any] = field(default_factory=dict)
    partition: str = "aws"
    # Layer versions created so far (LayerVersionArn -> code directory), for functions' Layers.
    layers: dict[str, Path] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.backend.client(service)

    def note(self, logical_id: str, message: str, **fields: Any) -> None:
        """Journal something the local deploy deliberately did not do, so nobody is surprised later."""
        if self.journal is not None:
            self.journal.record("deploy_note", stack=self.stack_name, logical_id=logical_id, note=message, **fields)

    def ignore_unhandled(self, logical_id: str, resource_type: str, props: dict[str, Any], handled: Iterable[str]) -> None:
        """One note per property the handler does not apply, instead of silently dropping it."""
        for name in sorted(set(props) - set(handled)):
            self.note(logical_id, f"{resource_type} property {name} is not applied locally", property=name)

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )


Validator = Callable[[str, dict[str, Any], DeployContext], None]
Creator = Callable[[DeployContext, str, dict[str, Any], dict[str, Any]], Created]


@dataclass(frozen=True)
class ResourceType:
    """A supported CloudFormation type.

    `create(ctx, logical_id, resolved_properties, raw_resource)`; `validate(logical_id,
    raw_resource, ctx)` runs for every resource before anything is created; `attributes` lists
    the Fn::GetAtt names the type has (None: any, as for custom resources), so a typo fails early.
    """

    name: str
    create: Creator
    attributes: tuple[str, ...] | None = ()
    required: tuple[str, ...] = ()
    validate: Validator | None = None
    needs: str | None = None  # "runtime" | "esm" | "notifications": a collaborator that must be given


_SUFFIX_ALPHABET = string.ascii_uppercase + string.digits


def physical_name(stack: str, logical_id: str, *, max_length: int, lowercase: bool = False, suffix_length: int = 12,
                  allowed: str | None = None) -> str:
    """CloudFormation's generated-name shape `<stack>-<logicalid>-<RANDOM>`, cut to fit `max_length`."""
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(suffix_length))
    budget = max_length - len(suffix) - 2
    stack_part = stack[: max(1, budget // 2)] if len(stack) + len(logical_id) > budget else stack
    lid_part = logical_id[: max(1, budget - len(stack_part))]
    name = f"{stack_part}-{lid_part}-{suffix}"
    if lowercase:
        name = name.lower()
    if allowed is not None:
        name = "".join(c if c in allowed else "-" for c in name)
    return name[:max_length]


def boolean(value: Any) -> bool:
    """CloudFormation passes booleans as true/false or "true"/"false"."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def attribute_text(value: Any) -> str:
    """SNS and SQS attributes are all strings: booleans as true/false, documents as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
