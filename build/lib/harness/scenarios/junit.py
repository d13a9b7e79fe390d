"""JUnit XML for CI: one testcase per scenario; a failure's message lists the differing checks."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

# Characters XML 1.0 cannot carry at all, even escaped. ElementTree writes them as they are, and CI
# readers then reject the whole file: one ANSI colour code in a function's error lost every verdict.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """Text as XML 1.0 can hold it: each forbidden character shown as its escape, \\x1b for ESC."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        text)


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure_message(scenario: dict[str, Any]) -> str:
    """One line per failing check: name [spec]: expected ..., observed ..."""
    lines = []
    for c in scenario.get("checks", []):
        if not c["passed"]:
            spec = f" [spec {c['spec']}]" if c.get("spec") else ""
            lines.append(f"{c['name']}{spec}: expected {_short(c['expected'])}, observed {_short(c['observed'])}")
    return "\n".join(lines)


def junit_xml(result: dict[str, Any]) -> str:
    scenarios = result.get("scenarios", [])
    suite = ET.Element("testsuite", {
        "name": _xml_safe(f"harness scenarios ({result.get('run', {}).get('backend', '?')})"),
        "tests": str(len(scenarios)),
        "failures": str(sum(1 for s in scenarios if s["verdict"] == "fail")),
        "errors": str(sum(1 for s in scenarios if s["verdict"] == "error")),
        "time": f"{result.get('run', {}).get('wall_s', 0.0):.3f}",
        "timestamp": str(result.get("run", {}).get("started", "")),
    })
    for s in scenarios:
        case = ET.SubElement(suite, "testcase", {"classname": "scenarios", "name": _xml_safe(str(s["name"])),
                                                 "time": f"{s.get('wall_s', 0.0):.3f}"})
        if s["verdict"] == "fail":
            msg = failure_message(s)
            el = ET.SubElement(case, "failure", {"message": _xml_safe(msg.splitlines()[0] if msg else "failed"),
                                                 "type": "ScenarioFailed"})
            el.text = _xml_safe(msg)
        elif s["verdict"] == "error":
            error = str(s.get("error") or "")
            el = ET.SubElement(case, "error", {"message": _xml_safe((error or "error").splitlines()[0]),
                                               "type": "ScenarioError"})
            el.text = _xml_safe(error)
        c = s.get("conservation") or {}
        out = ET.SubElement(case, "system-out")
        out.text = _xml_safe(f"{s['title']}\nspec: {', '.join(s.get('spec_sections', []))}\n"
                    f"conservation: {({k: v for k, v in c.items() if k != 'lost_records'})}")
    return ET.tostring(ET.ElementTree(suite).getroot(), encoding="unicode", xml_declaration=True)


def write_junit(result: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(result), encoding="utf-8")
    return path
