"""Credential redaction for everything a report shows.

Reports are shared (CI artifacts, tickets), and journal data carries whatever the functions
logged, so a secret can hide in a key, a value or a log line. Redaction runs over the whole
result before any rendering, so no renderer can forget it.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "[REDACTED]"

# Keys whose values are secrets whatever they hold. Matched case-insensitively on the key with
# '-' and '_' folded, so `AWS_SECRET_ACCESS_KEY`, `aws-secret-access-key` and `SecretAccessKey` all match.
_SECRET_KEY = re.compile(
    r"secret|sessiontoken|securitytoken|password|passwd|authorization|apikey|privatekey|credentials?$",
    re.IGNORECASE,
)
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
# `name = value`, `"name": "value"`, `name: value` inside free text (log lines, error messages).
_INLINE_SECRET = re.compile(
    r"""(?ix)
    (?P<name>aws_secret_access_key|aws_session_token|aws_security_token|x-amz-security-token
       |secret_?access_?key|session_?token)
    (?P<sep>\\?["']?\s*[:=]\s*\\?["']?)
    (?P<value>[^\s"'\\,;&}]+)
    """
)
# An Authorization header's value runs to the end of the line or the closing quote.
_INLINE_AUTH = re.compile(r"""(?i)(?P<name>\bauthorization)(?P<sep>\\?["']?\s*[:=]\s*\\?["']?)(?P<value>[^"'\\\n]+)""")

# SigV4 parts that grant access when copied (a presigned URL works until it expires).
_SIGV4 = re.compile(r"(?i)\b(?P<name>Signature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)(?P<sep>=)"
                    r"(?P<value>[^\s&,;\"'\\]+)")


def is_secret_key(key: str) -> bool:
    """True for keys that name credentials; their values are never shown."""
    folded = key.replace("-", "").replace("_", "")
    return bool(_SECRET_KEY.search(folded))


def redact_text(text: str) -> str:
    """Mask access key ids, SigV4 signatures and inline `secret=value` / `Authorization: ...` in free text."""
    text = _INLINE_AUTH.sub(lambda m: m.group("name") + m.group("sep") + MASK, text)
    text = _INLINE_SECRET.sub(lambda m: m.group("name") + m.group("sep") + MASK, text)
    text = _SIGV4.sub(lambda m: m.group("name") + m.group("sep") + MASK, text)
    return _ACCESS_KEY_ID.sub(lambda m: m.group(0)[:4] + MASK, text)


def redact(value: Any) -> Any:
    """A deep copy of `value` with every secret masked; other data is kept as it was."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            key = redact_text(k) if isinstance(k, str) else k
            if isinstance(k, str) and is_secret_key(k) and v not in (None, "", [], {}):
                out[key] = MASK
            else:
                out[key] = redact(v)
        return out
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


__all__ = ["MASK", "is_secret_key", "redact", "redact_text"]
