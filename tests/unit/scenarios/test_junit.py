"""JUnit XML stays parseable whatever a scenario's error or name holds: XML 1.0 forbids most control
characters even escaped, and one of them made CI readers reject every verdict in the file."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.scenarios.junit import junit_xml


def _result() -> dict:
    return {"run": {"backend": "embedded", "wall_s": 1.0, "started": "2026-11-28T00:00:00Z"}, "scenarios": [
        {"name": "crash\x00name", "title": "t\x07", "verdict": "error", "wall_s": 0.1,
         "error": "\x1b[31mRuntimeError\x1b[0m: boom\x0c\nTraceback ...", "checks": []},
        {"name": "poison", "title": "one poison", "verdict": "fail", "wall_s": 0.2, "checks": [
            {"name": "isolated", "passed": False, "expected": "a\x01", "observed": "b", "spec": "3"}]},
    ]}


def test_control_characters_are_escaped_and_the_file_parses() -> None:
    root = ET.fromstring(junit_xml(_result()).split("?>", 1)[1])
    crash, poison = root.findall("testcase")
    assert crash.get("name") == "crash\\x00name"
    error = crash.find("error")
    assert error is not None and error.get("message") == "\\x1b[31mRuntimeError\\x1b[0m: boom"  # \x0c ends a line for splitlines
    assert "Traceback" in (error.text or "")
    failure = poison.find("failure")
    assert failure is not None and "isolated [spec 3]" in failure.get("message", "")
    assert root.get("errors") == "1" and root.get("failures") == "1"


def test_ordinary_text_is_unchanged() -> None:
    root = ET.fromstring(junit_xml(_result()).split("?>", 1)[1])
    assert "one poison" in (root.findall("testcase")[1].find("system-out").text or "")  # type: ignore[union-attr]
