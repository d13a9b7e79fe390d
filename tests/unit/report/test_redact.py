"""No credentials in reports: secrets are masked in keys' values, log lines, errors and every
other field, in both the HTML and the Markdown, while ordinary data survives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.report import write_report
from harness.report.redact import MASK, is_secret_key, redact, redact_text

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDExampleSessionToken=="
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SIGNATURE = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
AUTH = f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20270115/us-east-1/s3/aws4_request, Signature={SIGNATURE}"


@pytest.mark.parametrize("key", ["AWS_SECRET_ACCESS_KEY", "aws_secret_access_key", "AWS_SESSION_TOKEN",
                                 "Authorization", "authorization", "SecretAccessKey", "x-amz-security-token",
                                 "password", "aws-secret-access-key"])
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)
    assert redact({key: "value"}) == {key: MASK}


@pytest.mark.parametrize("key", ["AWS_REGION", "AWS_ENDPOINT_URL", "sequence_numbers", "key", "shard_id", "token_count"])
def test_ordinary_keys_kept(key: str) -> None:
    assert not is_secret_key(key)
    assert redact({key: "value"}) == {key: "value"}


@pytest.mark.parametrize("text", [
    f"AWS_SECRET_ACCESS_KEY={SECRET} next",
    f'{{"aws_secret_access_key": "{SECRET}", "n": 1}}',
    f"export AWS_SESSION_TOKEN='{TOKEN}'",
    f"Authorization: {AUTH}",
    f'{{\\"Authorization\\": \\"{AUTH}\\"}}',  # a JSON log line inside a JSON string
    f"key id {KEY_ID} in a sentence",
])
def test_inline_secrets_masked(text: str) -> None:
    out = redact_text(text)
    for secret in (SECRET, TOKEN, KEY_ID, SIGNATURE):
        assert secret not in out
    assert MASK in out


def test_text_around_secrets_survives() -> None:
    assert redact_text(f"AWS_SECRET_ACCESS_KEY={SECRET} next") == f"AWS_SECRET_ACCESS_KEY={MASK} next"
    assert redact_text(f"id {KEY_ID}.") == f"id AKIA{MASK}."
    assert redact_text("Authorization: Bearer abc\nline two") == f"Authorization: {MASK}\nline two"


def test_nested_structures() -> None:
    value = {"env": {"AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "eu-west-1"},
             "list": [{"headers": {"Authorization": AUTH}}, f"k={KEY_ID}"], "n": 3, "none": None}
    out = redact(value)
    assert out == {"env": {"AWS_SECRET_ACCESS_KEY": MASK, "AWS_REGION": "eu-west-1"},
                   "list": [{"headers": {"Authorization": MASK}}, f"k=AKIA{MASK}"], "n": 3, "none": None}
    assert value["env"]["AWS_SECRET_ACCESS_KEY"] == SECRET  # a copy, the caller's data untouched


def test_no_credentials_anywhere_in_written_reports(tmp_path: Path, rich_result: dict[str, Any]) -> None:
    run = rich_result["run"]
    run["backend_info"]["environment"] = {"AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN,
                                          "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_REGION": "us-east-1"}
    run["harness_version"] = f"1.0 ({KEY_ID})"
    sc = rich_result["scenarios"][1]
    sc["journal"].append({"seq": 999, "ts": sc["journal"][-2]["ts"], "kind": "function_log", "function": "consumer",
                          "line": json.dumps({"headers": {"Authorization": AUTH}, "env": f"AWS_SECRET_ACCESS_KEY={SECRET}"})})
    sc["checks"][1]["observed"] = {"aws_secret_access_key": SECRET, "creds": f"AWS_SESSION_TOKEN={TOKEN}"}
    sc["conservation"]["lost_records"].append(f"record signed by {KEY_ID}")
    sc["observed"] = {"Authorization": AUTH}
    sc["name"] = f"leak-{KEY_ID}"
    rich_result["scenarios"][2]["error"] = f"ClientError: bad signature for {AUTH}"
    rich_result["fidelity"][0]["reason"] = f"AWS_SECRET_ACCESS_KEY={SECRET}"
    paths = write_report(rich_result, tmp_path)
    for path in paths.values():
        text = path.read_text(encoding="utf-8")
        for secret in (SECRET, TOKEN, KEY_ID, SIGNATURE, "EXAMPLEKEY", "SessionToken=="):
            assert secret not in text, f"{secret} leaked into {path.name}"
        assert "REDACTED" in text  # Markdown escapes the brackets
    html = paths["html"].read_text(encoding="utf-8")
    assert "us-east-1" in html and "demo-bisect-poison" in html  # ordinary data kept


def test_presigned_url_signature_masked() -> None:
    url = ("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F2027"
           f"&X-Amz-Security-Token={TOKEN}&X-Amz-Signature={SIGNATURE}&x=1")
    out = redact_text(url)
    assert SIGNATURE not in out and TOKEN not in out and "ASIAIOSFODNN7EXAMPLE" not in out
    assert out.endswith("&x=1") and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in out
