"""The S3 ObjectCreated event exactly as AWS delivers it to Lambda (event version 2.1)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote_plus

from harness.notifications.config import EVENT_NAME, Rule

# Stand-ins for the AWS principals in the event; fixed so events compare across runs.
PRINCIPAL_ID = "AWS:AIDAHARNESSLOCAL"
OWNER_ID = "A1HARNESSLOCAL"


def encode_key(key: str) -> str:
    """S3 events carry the key form-URL-encoded (space -> '+', '=' -> '%3D') with '/' kept."""
    return quote_plus(key, safe="/")


def event_time(when: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as in `2024-05-01T12:00:00.123Z`."""
    when = when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def object_created_event(*, rule: Rule, key: str, size: int, etag: str, sequencer: str, when: datetime,
                         region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": event_time(when),
                "eventName": EVENT_NAME,
                "userIdentity": {"principalId": PRINCIPAL_ID},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": uuid.uuid4().hex,
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": rule.configuration_id,
                    "bucket": {
                        "name": rule.bucket,
                        "ownerIdentity": {"principalId": OWNER_ID},
                        "arn": f"arn:aws:s3:::{rule.bucket}",
                    },
                    "object": {
                        "key": encode_key(key),
                        "size": size,
                        "eTag": etag.strip('"'),
                        "sequencer": sequencer,
                    },
                },
            }
        ]
    }
