"""The terminal table: rows in recommendation order, the deployed and recommended rows marked,
and every setting that differs from the deployed one highlighted, so the trade-off reads at a glance."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.explore.choose import RULE, ranked
from harness.explore.grid import PARAMETERS, show_setting
from harness.explore.metrics import METRICS

SHORT = {"BatchSize": "batch", "MaximumBatchingWindowInSeconds": "window", "ParallelizationFactor": "par",
         "MaximumRetryAttempts": "retries", "MaximumRecordAgeInSeconds": "age", "BisectBatchOnFunctionError": "bisect",
         "FunctionResponseTypes": "resp", "TumblingWindowInSeconds": "tumble", "DestinationConfig": "dest"}
HEAD = {"invocations": "invokes", "deliveries": "deliv", "duplicate_deliveries": "dups",
        "failure_records": "fail recs", "records_in_failure_records": "recs in fail",
        "good_in_failure_records": "good in fail", "lost": "lost", "drain_s": "drain s", "max_blocked_s": "blocked s"}

VERIFIED = {True: Text("agrees", style="green"), False: Text("DIFFERS", style="bold red"), None: Text("")}


def varied(result: dict[str, Any]) -> list[str]:
    """The parameters whose value differs across rows (the others are the same everywhere)."""
    rows = result["rows"]
    return [k for k in PARAMETERS if len({repr(r["settings"][k]) for r in rows}) > 1]


def render_table(result: dict[str, Any], console: Console) -> None:
    base = result["base"]
    keys = varied(result) or ["BatchSize", "MaximumRetryAttempts", "BisectBatchOnFunctionError"]
    same = [f"{k}={show_setting(k, base[k])}" for k in PARAMETERS if k not in keys]
    table = Table(title=f"explore {result['scenario']} ({result.get('stream', '')} stream)",
                  caption=("same in every row: " + ", ".join(same) + "\n" if same else "")
                  + f"recommendation: {RULE}; * Pareto front")
    table.add_column("#", justify="right")
    table.add_column("")
    for k in keys:
        table.add_column(SHORT[k])
    for m in METRICS:
        table.add_column(HEAD[m], justify="right")
    verified = any("verified" in r for r in result["rows"])
    if verified:
        table.add_column("verified")
    pareto = set(result["pareto"])
    for i in ranked(result["rows"]):
        row = result["rows"][i]
        marks = []
        if i == result["recommended"]:
            marks.append("recommended")
        if row["deployed"]:
            marks.append("deployed")
        cells: list[Any] = [str(i) + ("*" if i in pareto else ""), ", ".join(marks)]
        for k in keys:
            v = row["settings"][k]
            cells.append(Text(show_setting(k, v), style="bold yellow" if v != base[k] else ""))
        if row.get("skipped"):
            cells.append(Text("skipped", style="dim"))
            cells.extend([""] * (len(METRICS) - 1))
        else:
            for m in METRICS:
                cells.append(Text(str(row[m]), style="bold red" if m == "lost" and row[m] else ""))
        if verified:
            cells.append(VERIFIED[row.get("verified")])
        style = "green" if i == result["recommended"] else ("cyan" if row["deployed"] else None)
        table.add_row(*cells, style=style)
    console.print(table)
    for i, row in enumerate(result["rows"]):
        if row.get("skipped"):
            console.print(f"#{i} skipped: {row['skipped']}", style="dim", soft_wrap=True)
