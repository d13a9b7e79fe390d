"""Parse S3 `NotificationConfiguration` (the PutBucketNotificationConfiguration shape, which is also
what CDK's Custom::S3BucketNotifications carries) into the rules the service matches objects with."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

# Only object creation is observable by polling a listing; other event types are refused loudly.
CREATED_EVENTS = ("s3:ObjectCreated:*", "s3:ObjectCreated:Put")
# The event name a poll can honestly report: Put, Post, Copy and multipart all look alike in a listing.
EVENT_NAME = "ObjectCreated:Put"


class NotificationConfigError(ValueError):
    """A notification configuration the service cannot honour; the message names the bucket and field."""


@dataclass(frozen=True)
class Rule:
    """One LambdaFunctionConfiguration: which objects go to which function."""

    bucket: str
    function_arn: str
    function_name: str
    configuration_id: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)


def function_name_from_arn(value: str) -> str:
    """`arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]` -> `<name>`; a partial ARN
    (`<account>:function:<name>`) too; a bare name stays. Also what the deployer names
    Permission and EventSourceMapping targets with."""
    if ":function:" in value:
        return value.split(":function:", 1)[1].split(":", 1)[0]
    return value


def parse(bucket: str, config: Any) -> tuple[list[Rule], list[str]]:
    """The rules to apply and the notes about parts that are not delivered locally."""
    if not isinstance(config, dict):
        raise NotificationConfigError(f"bucket {bucket!r}: NotificationConfiguration must be an object, got {config!r}")
    notes = [f"{key} is not delivered by the harness's notification service" for key in
             ("QueueConfigurations", "TopicConfigurations", "EventBridgeConfiguration") if config.get(key)]
    items = config.get("LambdaFunctionConfigurations") or []
    if not isinstance(items, list):
        raise NotificationConfigError(f"bucket {bucket!r}: LambdaFunctionConfigurations must be a list")
    rules: list[Rule] = []
    for index, item in enumerate(items):
        where = f"bucket {bucket!r}: LambdaFunctionConfigurations[{index}]"
        if not isinstance(item, dict):
            raise NotificationConfigError(f"{where} must be an object")
        arn = item.get("LambdaFunctionArn")
        if not isinstance(arn, str) or not arn:
            raise NotificationConfigError(f"{where}.LambdaFunctionArn is missing or not a string")
        events = item.get("Events")
        if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
            raise NotificationConfigError(f"{where}.Events must be a non-empty list of event names")
        created = tuple(e for e in events if e in CREATED_EVENTS)
        for other in sorted(set(events) - set(created)):
            if not other.startswith("s3:"):
                raise NotificationConfigError(f"{where}.Events: {other!r} is not an S3 event name")
            notes.append(f"{where}: event {other} is not delivered locally (only object creation is observed)")
        prefix, suffix = _filter(where, item.get("Filter"))
        rules.append(Rule(
            bucket=bucket,
            function_arn=arn,
            function_name=function_name_from_arn(arn),
            configuration_id=item.get("Id") or _generated_id(bucket, index, arn),
            events=created,
            prefix=prefix,
            suffix=suffix,
        ))
    return [r for r in rules if r.events], notes


def _filter(where: str, value: Any) -> tuple[str, str]:
    if value is None:
        return "", ""
    rules = value.get("Key", {}).get("FilterRules") if isinstance(value, dict) else None
    if not isinstance(rules, list):
        raise NotificationConfigError(f"{where}.Filter must be {{'Key': {{'FilterRules': [...]}}}}")
    found: dict[str, str] = {}
    for i, rule in enumerate(rules):
        name = str(rule.get("Name", "")).lower() if isinstance(rule, dict) else ""
        if name not in ("prefix", "suffix"):
            raise NotificationConfigError(f"{where}.Filter.Key.FilterRules[{i}].Name must be 'prefix' or 'suffix'")
        if name in found:
            raise NotificationConfigError(f"{where}.Filter.Key.FilterRules: {name} given twice")
        if not isinstance(rule.get("Value"), str):
            raise NotificationConfigError(f"{where}.Filter.Key.FilterRules[{i}].Value must be a string")
        found[name] = rule["Value"]
    return found.get("prefix", ""), found.get("suffix", "")


def _generated_id(bucket: str, index: int, arn: str) -> str:
    """AWS generates an opaque base64 id when none is given; a stable one keeps runs comparable."""
    digest = hashlib.sha256(f"{bucket}|{index}|{arn}".encode()).digest()[:24]
    return base64.b64encode(digest).decode().rstrip("=")
