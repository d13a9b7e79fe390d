"""S3 ObjectCreated -> Lambda notifications, delivered by the harness where the backend cannot."""

from __future__ import annotations

from harness.notifications.config import NotificationConfigError, Rule, function_name_from_arn
from harness.notifications.events import encode_key, object_created_event
from harness.notifications.service import (
    DELIVERED,
    FAILED,
    PENDING,
    Delivery,
    NotificationService,
    NotificationTimeout,
)

__all__ = [
    "DELIVERED",
    "FAILED",
    "PENDING",
    "Delivery",
    "NotificationConfigError",
    "NotificationService",
    "NotificationTimeout",
    "Rule",
    "encode_key",
    "function_name_from_arn",
    "object_created_event",
]
