"""EventBridge delivery that moto (the embedded backend, in this process) lacks: SNS topic targets,
and rule State.

moto's `Rule.send_to_targets` delivers to SQS queues, log groups and event buses, raises
NotImplementedError for any other target (so one SNS target made every matching PutEvents fail
with a 500), and ignores a rule's State. The patched method sends SNS targets the event as the
message (what EventBridge publishes), skips DISABLED rules, and leaves every other target to moto.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Patch moto's events backend once per process (moto's state is process-global too)."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.events import models

        original = models.Rule.send_to_targets

        def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
            if self.state != "ENABLED":
                return  # AWS: a disabled rule does not match events
            topics = [t for t in self.targets if _service(t.get("Arn", "")) == "sns"]
            others = [t for t in self.targets if _service(t.get("Arn", "")) != "sns"]
            if topics and self.event_pattern.matches_event(original_event):
                for target in topics:
                    _publish(self, target, original_event, transform_input)
            if others:
                rest = copy.copy(self)  # a copy, so concurrent PutEvents never see a changed target list
                rest.targets = others
                original(rest, original_event, transform_input)

        models.Rule.send_to_targets = send_to_targets
        _installed = True


def _service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else ""


def _publish(rule: Any, target: dict[str, Any], event: dict[str, Any], transform_input: bool) -> None:
    from moto.events.utils import EventTemplateParser
    from moto.sns.models import sns_backends

    if transform_input:
        transformer = target.get("InputTransformer", {})
        message = EventTemplateParser.parse(input_template=transformer.get("InputTemplate"),
                                            input_paths_map=transformer.get("InputPathsMap", {}), event=event)
    else:
        message = dict(event)
    if isinstance(message, dict) and isinstance(message.get("time"), (int, float)):
        # What moto does for its SQS targets, and EventBridge's shape: ISO-8601 UTC, no ms.
        from moto.core.utils import iso_8601_datetime_without_milliseconds, utcfromtimestamp

        message["time"] = iso_8601_datetime_without_milliseconds(utcfromtimestamp(message["time"]))
    arn = target["Arn"]
    region, account = arn.split(":")[3], arn.split(":")[4]
    body = message if isinstance(message, str) else json.dumps(message, default=str)
    sns_backends[account][region].publish(message=body, arn=arn)
