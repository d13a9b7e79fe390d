"""What a role's policies, as the template writes them, allow.

A good-faith reading, not an IAM evaluator: Allow statements only (a Deny, a permissions
boundary or an SCP can only take away), actions matched with IAM's `*`/`?` wildcards without
regard to case, resources compared as written (a reference to a logical id, or a literal ARN
pattern). Policies read: the role's inline `Policies`, every `AWS::IAM::Policy` and
`AWS::IAM::ManagedPolicy` of the template whose `Roles` names the role, and managed policies of
the template the role lists in `ManagedPolicyArns`. AWS managed policies are not read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from harness.deploy.template_index import TemplateIndex

POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


@dataclass(frozen=True)
class Statement:
    """One policy statement and where it comes from (`source`: the policy's logical id, or
    `<role>.Policies[<name>]` for an inline policy)."""

    source: str
    body: dict[str, Any]

    @property
    def allow(self) -> bool:
        return str(self.body.get("Effect", "")).lower() == "allow"

    def allows(self, action: str) -> bool:
        """True when this Allow statement covers `action` (Action with wildcards, or NotAction not naming it)."""
        if not self.allow:
            return False
        if "Action" in self.body:
            return any(_action_match(pattern, action) for pattern in _as_list(self.body["Action"]))
        if "NotAction" in self.body:
            return not any(_action_match(pattern, action) for pattern in _as_list(self.body["NotAction"]))
        return False

    @property
    def resources(self) -> list[Any]:
        """Resource entries as written (strings or intrinsics); NotResource counts as everything."""
        if "Resource" in self.body:
            return _as_list(self.body["Resource"])
        return ["*"] if "NotResource" in self.body else []

    def condition_keys(self) -> set[str]:
        """Every condition key of the statement, lowercased (`s3:resourceaccount`...)."""
        keys: set[str] = set()
        condition = self.body.get("Condition")
        if isinstance(condition, dict):
            for block in condition.values():
                if isinstance(block, dict):
                    keys.update(str(k).lower() for k in block)
        return keys


def role_statements(ix: TemplateIndex, role: str | None) -> list[Statement]:
    """Every statement of the policies attached to `role` (a logical id), in template order."""
    if role is None or role not in ix.resources:
        return []
    found: list[Statement] = []
    role_props = ix.props(role)
    for i, policy in enumerate(role_props.get("Policies") or ()):
        if isinstance(policy, dict):
            name = policy.get("PolicyName", i)
            found.extend(_statements(f"{role}.Policies[{name}]", policy.get("PolicyDocument")))
    managed = {ix.pointer(arn).logical_id for arn in role_props.get("ManagedPolicyArns") or ()}
    role_name, _ = ix.resolve(role_props.get("RoleName"))
    for lid in ix.of_type(*POLICY_TYPES):
        props = ix.props(lid)
        attached = lid in managed
        for entry in props.get("Roles") or ():
            p = ix.pointer(entry)
            if p.logical_id == role or (role_name is not None and p.literal == role_name):
                attached = True
        if attached:
            found.extend(_statements(lid, props.get("PolicyDocument")))
    return found


def _statements(source: str, document: Any) -> list[Statement]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, dict):
        return []
    return [Statement(source, s) for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _action_match(pattern: Any, action: str) -> bool:
    return isinstance(pattern, str) and fnmatchcase(action.lower(), pattern.lower())


def literal_resource_matches(pattern: Any, arn: str) -> bool:
    """A literal Resource entry (`*`, `arn:aws:s3:::*/*`...) that covers `arn`."""
    return isinstance(pattern, str) and fnmatchcase(arn, pattern)
