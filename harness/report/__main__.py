"""`python -m harness.report RESULT.json OUT_DIR`: re-render a saved runner result, no backend needed.

Also `--from-demo DIR` renders a `shardproof demo` report directory (journal.jsonl + summary.json),
which is how the test fixture was made. `shardproof report` (harness/report/cli.py) is the same command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.report import ReportInputError, write_report
from harness.report.from_journal import result_from_demo_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.report", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("result", nargs="?", type=Path, help="runner result JSON file")
    source.add_argument("--from-demo", type=Path, metavar="DIR", help="a `shardproof demo` report directory")
    parser.add_argument("--out", type=Path, required=True, help="directory for report.html and report.md")
    args = parser.parse_args(argv)
    try:
        if args.from_demo is not None:
            result = result_from_demo_dir(args.from_demo)
        else:
            result = json.loads(args.result.read_text(encoding="utf-8"))
        paths = write_report(result, args.out)
    except (OSError, json.JSONDecodeError, ReportInputError) as exc:
        where = args.from_demo or args.result
        print(f"report: {where}: {exc}", file=sys.stderr)
        return 2
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
