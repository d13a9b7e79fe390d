"""`shardproof faults add|list|clear`: faults injected live into the stack a running `up` serves.

`add` takes one fault from flags, or a YAML/JSON file holding a list in the shape of a scenario
file's `faults:` (docs/faults.md); the running `up` validates it and answers with the faults as
resolved (function names filled in), or the error naming the fault and the field.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("faults", help="inject faults into the stack a running `up` serves (add, list, clear)")
    sub = p.add_subparsers(dest="faults_command", required=True)
    a = sub.add_parser("add", help="add a fault (flags) or the faults of a YAML/JSON file (a `faults:` list)")
    a.add_argument("--file", help="YAML or JSON file: a list of fault entries, as a scenario's faults:")
    a.add_argument("--fault", choices=("error", "timeout", "crash", "throttle", "latency", "partial"))
    a.add_argument("--function", help="logical id, CDK construct id or function name (default: the consumer)")
    a.add_argument("--match", help="a Lambda filter pattern (JSON) over each record")
    a.add_argument("--times", type=int, help="only the first N matching invocations")
    a.add_argument("--message", help="error only: the error message")
    a.add_argument("--latency-ms", type=int, help="latency only: milliseconds before the handler")
    a.add_argument("--after-handler", action="store_true", help="run the handler first, then the fault")
    a.add_argument("--destination-unavailable", action="store_true",
                   help="the on-failure destination refuses delivery (with --times or --seconds)")
    a.add_argument("--seconds", type=float, help="with --destination-unavailable: for this long")
    a.set_defaults(func=cmd_add)
    sub.add_parser("list", help="the faults in force and how often each applied").set_defaults(func=cmd_list)
    sub.add_parser("clear", help="remove every fault").set_defaults(func=cmd_clear)


def entries_from_args(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The fault entries `faults add` sends; ValueError naming the flag at fault."""
    if args.file:
        import yaml

        path = Path(args.file)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"--file {path}: cannot be read as YAML/JSON: {exc}") from None
        if isinstance(data, dict) and "faults" in data:
            data = data["faults"]
        if not isinstance(data, list):
            raise ValueError(f"--file {path}: must hold a list of fault entries (or an object with `faults:`)")
        return data
    if args.destination_unavailable:
        entry: dict[str, Any] = {"destination": "unavailable"}
        if args.times is not None:
            entry["times"] = args.times
        if args.seconds is not None:
            entry["seconds"] = args.seconds
        return [entry]
    if not args.fault:
        raise ValueError("give --fault KIND, --destination-unavailable, or --file FILE")
    entry = {"fault": args.fault}
    for flag, key in (("function", "function"), ("times", "times"), ("message", "message"),
                      ("latency_ms", "latency_ms")):
        if getattr(args, flag) is not None:
            entry[key] = getattr(args, flag)
    if args.match:
        try:
            entry["match"] = json.loads(args.match)
        except ValueError as exc:
            raise ValueError(f"--match must be a JSON filter pattern: {exc}") from None
    if args.after_handler:
        entry["after_handler"] = True
    return [entry]


def cmd_add(args: argparse.Namespace) -> int:
    from harness.up import request_faults

    answer = request_faults("POST", entries_from_args(args))
    print(json.dumps(answer.get("added", []), indent=2))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from harness.up import request_faults

    print(json.dumps(request_faults("GET").get("faults", []), indent=2))
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    from harness.up import request_faults

    print(json.dumps({"cleared": request_faults("DELETE").get("cleared", 0)}))
    return 0
