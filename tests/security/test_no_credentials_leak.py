"""No credentials in logs, journal or reports: run the demo pipeline with secret-looking values in
the environment (AWS keys, a session token, CI and LocalStack tokens) and look for them everywhere
the harness writes: the journal (every function log line included), the report files, the console.

Slow (~5 s: the real demo with one scenario, end to end), and deliberately so: a leak would come from some
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
        # One canonical scenario (poison -> bisect -> S3 -> failure handler -> alert): every kind of
        # writer runs; the other twelve add time, not new writers.
        status, result = run_demo(names=["one-poison-bisect"], report_dir=tmp_path / "report",
                                  console=Console(file=out, width=200), progress_console=Console(file=out))
    assert status == 0, [s.get("verdict") for s in result["scenarios"]]

    written = {p: p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()}
    result_json = tmp_path / "report" / "result.json"
    assert result_json in written and (tmp_path / "report" / "report.html") in written
    # The journal (function log lines included) is embedded in result.json, so it is searched too.
    journal = result["scenarios"][0]["journal"]
    assert len(journal) > 20 and any(e.get("kind") == "function_log" for e in journal)
    assert '"function_log"' in written[result_json]
    leaks = [(p.name, name) for p, text in written.items() for name, value in SECRETS.items() if value in text]
    assert leaks == [], f"secret values found in: {leaks}"
    # Also no partial leak of the distinctive parts (a truncated or re-encoded token).
    for p, text in written.items():
        assert "leak-canary" not in text.lower() and "LEAKCANARY" not in text, p.name
