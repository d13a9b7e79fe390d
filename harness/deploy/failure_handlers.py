"""Who reacts to a failure record in the S3 destination, and where they can raise the alarm.

Notifications come from CDK's `Custom::S3BucketNotifications` (LambdaFunctionConfigurations) and
from a bucket's own `NotificationConfiguration.LambdaConfigurations` (CloudFormation's native
shape, what SAM and hand-written templates use). A notified function is a failure handler when
its events and key filter admit the keys an ESM writes (spec 4:
`aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`).

Alert channels are a good-faith reading of the handler as written: the SNS topics, SQS queues
and EventBridge buses of the template its environment variables name (code finds them that
way); SES identities of the template when its policies allow ses:SendEmail/SendRawEmail; and
EventBridge's default bus when its policies allow events:PutEvents on it (no variable is needed
for that bus). A topic only named in a policy, with no variable, is not counted.
"""

from __future__ import annotations

import json
from typing import Any

from harness.deploy.iam_reading import literal_resource_matches, role_statements
from harness.deploy.stack_model import AlertDesc, FunctionDesc, NotificationDesc
from harness.deploy.stream_mappings import function_target
from harness.deploy.template_index import TemplateIndex, show
from harness.notifications.config import CREATED_EVENTS

CDK_NOTIFICATIONS = "Custom::S3BucketNotifications"
BUCKET = "AWS::S3::Bucket"
FAILURE_KEY_HEAD = "aws/lambda/"
# Character classes of an ESM failure key after `aws/lambda/` (spec 4): `h` hex digit, `d` digit,
# `-`, `.`, `T` literal. The UUID opens the key; the time stamp and a random UUID close it.
_UUID_SHAPE = "hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh"
_TAIL_SHAPE = "dddd-dd-ddTdd.dd.dd-" + _UUID_SHAPE
ALERT_TYPES = {"AWS::SNS::Topic": "sns", "AWS::SQS::Queue": "sqs", "AWS::Events::EventBus": "events"}
SES_IDENTITY = "AWS::SES::EmailIdentity"
SES_ACTIONS = ("ses:SendEmail", "ses:SendRawEmail")
DEFAULT_BUS = "default"  # AlertDesc.logical_id for EventBridge's default event bus


# -- notifications -----------------------------------------------------------------------------

def bucket_notifications(ix: TemplateIndex, bucket: str) -> list[NotificationDesc]:
    """Every S3 -> Lambda notification on `bucket`, each marked whether it admits failure records."""
    found: list[NotificationDesc] = []
    for lid in ix.of_type(CDK_NOTIFICATIONS):
        props = ix.props(lid)
        if ix.pointer(props.get("BucketName")).logical_id != bucket or not ix.deployed(lid):
            continue
        config = props.get("NotificationConfiguration") or {}
        for i, item in enumerate(config.get("LambdaFunctionConfigurations") or ()):
            if isinstance(item, dict):
                where = f"{lid}: LambdaFunctionConfigurations[{i}]"
                rules = ((item.get("Filter") or {}).get("Key") or {}).get("FilterRules")
                found.extend(_notification(ix, where, lid, bucket, item.get("LambdaFunctionArn"),
                                           item.get("Events"), rules))
        _note_other_targets(ix, lid, bucket, config, ("QueueConfigurations", "TopicConfigurations"))
    config = ix.props(bucket).get("NotificationConfiguration") or {}
    for i, item in enumerate(config.get("LambdaConfigurations") or ()):
        if isinstance(item, dict):
            where = f"{bucket}: NotificationConfiguration.LambdaConfigurations[{i}]"
            rules = ((item.get("Filter") or {}).get("S3Key") or {}).get("Rules")
            found.extend(_notification(ix, where, bucket, bucket, item.get("Function"), [item.get("Event")], rules))
    _note_other_targets(ix, bucket, bucket, config, ("QueueConfigurations", "TopicConfigurations"))
    return found


def _notification(ix: TemplateIndex, where: str, declared_by: str, bucket: str, function: Any,
                  events: Any, rules: Any) -> list[NotificationDesc]:
    fn, _, why = function_target(ix, function)
    if fn is None:
        ix.note(f"{where}: {show(function)}: {why}; not described")
        return []
    names = tuple(e for e in events or () if isinstance(e, str))
    prefix, suffix = _filter(rules)
    admits, reason = admits_failure_keys(names, prefix, suffix)
    if not admits and any(e.startswith("s3:ObjectCreated") for e in names):
        ix.note(f"{where}: {fn} is notified of new objects but not of ESM failure records: {reason}")
    return [NotificationDesc(bucket=bucket, function=fn, events=names, prefix=prefix, suffix=suffix,
                             admits_failure_records=admits, declared_by=declared_by)]


def _filter(rules: Any) -> tuple[str, str]:
    found = {"prefix": "", "suffix": ""}
    for rule in rules if isinstance(rules, list) else ():
        if isinstance(rule, dict) and str(rule.get("Name", "")).lower() in found and isinstance(rule.get("Value"), str):
            found[str(rule["Name"]).lower()] = rule["Value"]
    return found["prefix"], found["suffix"]


def _note_other_targets(ix: TemplateIndex, lid: str, bucket: str, config: Any, keys: tuple[str, ...]) -> None:
    for key in keys:
        if isinstance(config, dict) and config.get(key):
            ix.note(f"{lid}: bucket {bucket} also notifies through {key}; only Lambda targets are described as "
                    "failure handlers")


def admits_failure_keys(events: tuple[str, ...], prefix: str, suffix: str) -> tuple[bool, str]:
    """(True, "") when a notification with these events and filter fires for an ESM failure
    record (spec 4), else (False, why not). The object is created by a PutObject, so
    `s3:ObjectCreated:*` or `s3:ObjectCreated:Put` must be among the events."""
    if not any(e in CREATED_EVENTS for e in events):
        return False, f"events {', '.join(events) or 'none'} include neither s3:ObjectCreated:* nor s3:ObjectCreated:Put"
    if not _prefix_admits(prefix):
        return False, f"prefix {prefix!r} excludes keys aws/lambda/<ESM-UUID>/<shardId>/... (spec 4)"
    if not _suffix_admits(suffix):
        extra = " (the documented key has no .json suffix)" if suffix.endswith(".json") else ""
        return False, f"suffix {suffix!r} excludes keys ending in -<uuid>{extra} (spec 4)"
    return True, ""


def _prefix_admits(prefix: str) -> bool:
    if FAILURE_KEY_HEAD.startswith(prefix):
        return True
    if not prefix.startswith(FAILURE_KEY_HEAD):
        return False
    rest = prefix[len(FAILURE_KEY_HEAD):]
    # One mapping's own prefix (aws/lambda/<its UUID>/...) admits that mapping's records only.
    head, slash, _ = rest.partition("/")
    if slash and len(head) != len(_UUID_SHAPE):
        return False
    return len(head) <= len(_UUID_SHAPE) and all(_fits(c, s) for c, s in zip(head, _UUID_SHAPE))


def _suffix_admits(suffix: str) -> bool:
    if len(suffix) > len(_TAIL_SHAPE):
        return False
    return all(_fits(c, s) for c, s in zip(reversed(suffix), reversed(_TAIL_SHAPE)))


def _fits(char: str, shape: str) -> bool:
    if shape == "h":
        return char in "0123456789abcdefABCDEF"
    if shape == "d":
        return char.isdigit()
    return char == shape


# -- alerts ------------------------------------------------------------------------------------

def alert_channels(ix: TemplateIndex, handler: FunctionDesc) -> list[AlertDesc]:
    """Where `handler` can send an alert (see the module docstring for what is read)."""
    alerts: list[AlertDesc] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, lid: str, via: str) -> None:
        if (kind, lid) not in seen:
            seen.add((kind, lid))
            alerts.append(AlertDesc(kind=kind, logical_id=lid, function=handler.logical_id, via=via))

    for name, value in handler.environment.items():
        for lid in ix.mentions(value):
            kind = ALERT_TYPES.get(ix.type_of(lid) or "")
            if kind:
                add(kind, lid, f"environment {name}")
    statements = role_statements(ix, handler.role)
    ses = [s for s in statements if any(s.allows(a) for a in SES_ACTIONS)]
    if ses:
        identities = list(ix.of_type(SES_IDENTITY))
        named = [lid for s in ses for r in s.resources for lid in ix.mentions(r) if lid in identities]
        for lid in named or identities:
            add("ses", lid, f"policy {ses[0].source} allows ses:SendEmail")
        if not identities:
            ix.note(f"{handler.logical_id} may send email through SES, but the template declares no {SES_IDENTITY}")
    for s in statements:
        if s.allows("events:PutEvents") and any(_default_bus(r) for r in s.resources):
            add("events", DEFAULT_BUS, f"policy {s.source} allows events:PutEvents on the default bus")
    return alerts


def _default_bus(resource: Any) -> bool:
    """A Resource entry covering the default bus in any account and Region: `*`,
    `arn:aws:events:*:*:event-bus/*`, or an ARN (literal or built) ending in event-bus/default."""
    if not isinstance(resource, str):
        return "event-bus/default" in json.dumps(resource)
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    return (len(parts) == 6 and literal_resource_matches(parts[2], "events")
            and literal_resource_matches(parts[5], "event-bus/default"))
