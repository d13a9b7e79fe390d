"""No credentials in logs, journal or reports: run the demo pipeline with secret-looking values in
the environment (AWS keys, a session token, CI and LocalStack tokens) and look for them everywhere
the harness writes: the journal (every function log line included), the report files, the console.

Slow (~10-15 s: the real demo, end to end), and deliberately so: a leak would come from some
path nobody thought of (an environment dump in a log line, a client repr in a journal entry), so
only the whole pipeline can show there is none.
"""

from __future__ import annotations

import pytest
from rich.console import Console

SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAFAKELEAKCANARY01",
    "AWS_SECRET_ACCESS_KEY": "fAkE/sEcReT+LeAk/CaNaRy/0123456789abcdefXY",
    "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEFAKE-session-token-leak-canary-98765",
    "GITHUB_TOKEN": "ghp_FAKEleakCANARY0123456789abcdefABCD",
    "LOCALSTACK_AUTH_TOKEN": "ls-FAKE-leak-canary-4242",
    "HARNESS_DB_PASSWORD": "hunter2-leak-canary",
}


@pytest.mark.timeout(180)
def test_demo_writes_no_secret_from_the_environment(tmp_path, monkeypatch):
    from harness.demo import run_demo

    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    console_file = tmp_path / "console.txt"
    with console_file.open("w") as out:
        result = run_demo(report_dir=tmp_path / "report", console=Console(file=out, width=200))
    assert result.passed, [c.name for c in result.checks if not c.passed]

    written = {p: p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()}
    journal = tmp_path / "report" / "journal.jsonl"
    assert journal in written and written[journal].count("\n") > 50, "the journal was written"
    assert '"function_log"' in written[journal], "function logs are in the journal, so they were searched too"
    leaks = [(p.name, name) for p, text in written.items() for name, value in SECRETS.items() if value in text]
    assert leaks == [], f"secret values found in: {leaks}"
    # Also no partial leak of the distinctive parts (a truncated or re-encoded token).
    for p, text in written.items():
        assert "leak-canary" not in text.lower() and "LEAKCANARY" not in text, p.name
