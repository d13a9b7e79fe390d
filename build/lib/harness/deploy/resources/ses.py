"""AWS::SES::EmailIdentity and AWS::SES::ConfigurationSet, for a failure handler that alerts by email.

The backend's SES must know the sender, or SendEmail is refused; the identity is created
verified (moto verifies at once; on AWS the owner clicks a link or publishes DKIM records).
"""

from __future__ import annotations

from typing import Any

from harness.deploy.resources.base import Created, DeployContext, ResourceType, physical_name

EMAIL_IDENTITY = "AWS::SES::EmailIdentity"
CONFIGURATION_SET = "AWS::SES::ConfigurationSet"
_IDENTITY_NOTED = ("ConfigurationSetAttributes", "DkimAttributes", "DkimSigningAttributes", "FeedbackAttributes",
                   "MailFromAttributes")


def create_email_identity(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    identity = props["EmailIdentity"]
    params: dict[str, Any] = {"EmailIdentity": identity}
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    response = ctx.client("sesv2").create_email_identity(**params)
    for key in _IDENTITY_NOTED:
        if key in props:
            ctx.note(lid, f"{EMAIL_IDENTITY} {key} is not applied locally", property=key)
    ctx.ignore_unhandled(lid, EMAIL_IDENTITY, props, {"EmailIdentity", "Tags", *_IDENTITY_NOTED})
    return Created(identity, _dkim_attributes(identity, (response.get("DkimAttributes") or {}).get("Tokens") or []))


def _dkim_attributes(identity: str, tokens: list[str]) -> dict[str, str]:
    """The CNAME records a domain identity publishes (SES's Easy DKIM shape), one pair per token."""
    domain = identity.split("@", 1)[-1]
    attributes: dict[str, str] = {}
    for n, token in enumerate(tokens[:3], start=1):
        attributes[f"DkimDNSTokenName{n}"] = f"{token}._domainkey.{domain}"
        attributes[f"DkimDNSTokenValue{n}"] = f"{token}.dkim.amazonses.com"
    return attributes


def create_configuration_set(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    name = props.get("Name") or physical_name(ctx.stack_name, lid, max_length=64)
    ctx.client("ses").create_configuration_set(ConfigurationSet={"Name": name})  # so SendEmail may name it
    for key in sorted(set(props) - {"Name"}):
        ctx.note(lid, f"{CONFIGURATION_SET} {key} is not applied locally (no local effect on sending)", property=key)
    return Created(name, {})


TYPES = (
    ResourceType(EMAIL_IDENTITY, create_email_identity,
                 attributes=tuple(f"DkimDNSToken{kind}{n}" for kind in ("Name", "Value") for n in (1, 2, 3)),
                 required=("EmailIdentity",)),
    ResourceType(CONFIGURATION_SET, create_configuration_set, attributes=()),
)
