"""Run every benchmark script in this folder and merge their JSON into reports/bench.json.

Each script prints one JSON object on its last stdout line; a script that fails is reported
under "errors" with its stderr tail, and the others still run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    merged: dict[str, object] = {}
    errors: dict[str, str] = {}
    for script in sorted(HERE.glob("*.py")):
        if script.name == Path(__file__).name:
            continue
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=HERE.parent)
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        try:
            if proc.returncode != 0 or not lines:
                raise ValueError(f"exit {proc.returncode}")
            merged.update(json.loads(lines[-1]))
        except ValueError as exc:
            errors[script.name] = f"{exc}: {proc.stderr[-2000:]}"
    if errors:
        merged["errors"] = errors
    out = HERE.parent / "reports" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(merged, indent=2))
    print(json.dumps(merged, indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
