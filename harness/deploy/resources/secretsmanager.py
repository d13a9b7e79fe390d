"""AWS::SecretsManager::Secret on the backend's Secrets Manager, so a function that reads its
configuration from a secret at run time finds it (with the value the template gives or generates)."""

from __future__ import annotations

import json
from typing import Any

from harness.deploy.resources.base import Created, DeployContext, ResourceType, physical_name

SECRET = "AWS::SecretsManager::Secret"
_GENERATE = {"ExcludeCharacters": "ExcludeCharacters", "ExcludeLowercase": "ExcludeLowercase",
             "ExcludeNumbers": "ExcludeNumbers", "ExcludePunctuation": "ExcludePunctuation",
             "ExcludeUppercase": "ExcludeUppercase", "IncludeSpace": "IncludeSpace",
             "PasswordLength": "PasswordLength", "RequireEachIncludedType": "RequireEachIncludedType"}


def _generated(ctx: DeployContext, spec: dict[str, Any]) -> str:
    """GenerateSecretString: a password, or a JSON template with the password under GenerateStringKey."""
    params = {api: spec[cfn] for cfn, api in _GENERATE.items() if cfn in spec}
    if "PasswordLength" in params:
        params["PasswordLength"] = int(params["PasswordLength"])
    password = ctx.client("secretsmanager").get_random_password(**params)["RandomPassword"]
    if "SecretStringTemplate" in spec and "GenerateStringKey" in spec:
        document = json.loads(spec["SecretStringTemplate"])
        document[spec["GenerateStringKey"]] = password
        return json.dumps(document)
    return password


def create_secret(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    # CloudFormation's generated secret names are `<logical id>-<random>`.
    name = props.get("Name") or f"{lid[:40]}-{physical_name('x', 'x', max_length=16)[4:]}"
    params: dict[str, Any] = {"Name": name}
    if "SecretString" in props:
        params["SecretString"] = props["SecretString"]
    elif isinstance(props.get("GenerateSecretString"), dict):
        params["SecretString"] = _generated(ctx, props["GenerateSecretString"])
    for key in ("Description", "KmsKeyId"):
        if key in props:
            params[key] = props[key]
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    if props.get("ReplicaRegions"):
        ctx.note(lid, f"{SECRET} ReplicaRegions are not created locally", property="ReplicaRegions")
    arn = ctx.client("secretsmanager").create_secret(**params)["ARN"]
    ctx.ignore_unhandled(lid, SECRET, props, {"Name", "SecretString", "GenerateSecretString", "Description",
                                              "KmsKeyId", "Tags", "ReplicaRegions"})
    return Created(arn, {"Id": arn})


TYPES = (
    ResourceType(SECRET, create_secret, attributes=("Id",)),
)
