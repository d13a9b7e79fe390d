"""`--record DIR`: keep the real failure objects a remote run read, as test fixtures.

Why: the envelope tests (tests/unit/failures) are written from the spec; a body AWS actually
wrote is the evidence that settles what the spec marks AWS-OBS or [GAP]. Fixtures get shared
(committed, attached to issues), so the account id is replaced in every ARN and anything
credential-like is masked (harness/report/redact.py) before a byte is written. The body is kept
as text, not re-serialized, so key order and the payload's string form stay exactly as written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from harness.report.redact import redact, redact_text

PLACEHOLDER_ACCOUNT = "000000000000"
FIXTURE_VERSION = 1
# The account field of an ARN: arn:<partition>:<service>:<region>:<account>:...
_ARN_ACCOUNT = re.compile(r"(arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:)(\d{12})(?=:)")


class RecordError(ValueError):
    """A fixture cannot be written or read; the message names the file or key."""


def redact_account(text: str, account_id: str | None = None) -> str:
    """Replace the account in every ARN (and the given account id wherever it stands alone)."""
    text = _ARN_ACCOUNT.sub(lambda m: m.group(1) + PLACEHOLDER_ACCOUNT, text)
    if account_id and account_id.isdigit() and len(account_id) == 12:
        # Not inside a longer run of digits: a 21..40 digit sequence number may contain it by chance.
        text = re.sub(rf"(?<!\d){account_id}(?!\d)", PLACEHOLDER_ACCOUNT, text)
    return text


def fixture_name(scenario: str, key: str) -> str:
    """A file name that keeps the scenario and the key's unique tail, safe on any filesystem."""
    tail = key.rstrip("/").rsplit("/", 1)[-1]
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"{scenario}--{tail}")
    return safe[:200] + ".json"


def record_failure_object(directory: Path, *, scenario: str, key: str, body: bytes | str,
                          account_id: str | None = None, region: str | None = None,
                          stack: str | None = None) -> Path:
    """Write one fixture {"key", "body", "recorded"}; returns its path. Never overwrites a file."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise RecordError(f"failure object {key!r} is not UTF-8 ({exc}); not recorded") from None
    clean_body = redact_text(redact_account(text, account_id))
    clean_key = redact_text(redact_account(key, account_id))
    meta: dict[str, Any] = {"scenario": scenario, "region": region, "stack": stack,
                            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                            "account": PLACEHOLDER_ACCOUNT, "fixture_version": FIXTURE_VERSION}
    doc = {"key": clean_key, "body": clean_body, "recorded": redact(meta)}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / fixture_name(scenario, clean_key)
    if path.exists():
        raise RecordError(f"fixture {path} already exists; not overwritten")
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_fixture(path: Path) -> dict[str, Any]:
    """A recorded fixture: {"key": str, "body": str, "recorded": {...}}; RecordError names what is wrong."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecordError(f"fixture {path}: cannot be read as JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("key"), str) or not isinstance(doc.get("body"), str):
        raise RecordError(f"fixture {path}: must be an object with string 'key' and 'body'")
    return doc


class Recorder:
    """The `on_object` sink of the remote runner: one fixture per failure object it reads."""

    def __init__(self, directory: Path, *, account_id: str | None = None, region: str | None = None,
                 stack: str | None = None) -> None:
        self.directory = directory
        self.account_id = account_id
        self.region = region
        self.stack = stack
        self.written: list[Path] = []
        self.errors: list[str] = []

    def __call__(self, scenario: Any, key: str, body: bytes) -> None:
        try:
            self.written.append(record_failure_object(
                self.directory, scenario=getattr(scenario, "name", str(scenario)), key=key, body=body,
                account_id=self.account_id, region=self.region, stack=self.stack))
        except (RecordError, OSError) as exc:  # a fixture that cannot be written must not fail the run
            self.errors.append(str(exc))
