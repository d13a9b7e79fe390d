"""`shardproof explore`: one scenario over a grid of mapping settings, through the oracle, side by side.

Entry: `explore(base, sets)` -> the result JSON (the contract: `scenario`, `base`, `rows`,
`pareto`, `recommended`). Modules, one job each: grid (parse and check settings), base (the
scenario and the stack's mapping as deployed), stream (items as stream records), run (each
combination through the oracle), metrics (one row's numbers), choose (Pareto front and
recommendation), render (terminal table), page (HTML), verify (the best rows for real).
"""

from __future__ import annotations

from typing import Any

from harness.explore.base import Base, BaseError, load_base, make_base
from harness.explore.choose import RULE, pareto, recommend
from harness.explore.grid import GridError, combinations, default_sets, parse_sets
from harness.explore.run import run_grid


def explore(base: Base, sets: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    """Run the grid (`sets`, or the default grid) over the base; the result JSON."""
    grid = sets if sets else default_sets(base.settings)
    combos = combinations(base.settings, grid, has_destination=base.has_destination)
    rows = run_grid(base, combos)
    return {"scenario": base.scenario.name, "stream": base.kind, "mapping": base.pipeline.mapping.logical_id,
            "base": dict(base.settings), "grid": {k: list(v) for k, v in grid.items()}, "rule": RULE,
            "rows": rows, "pareto": pareto(rows), "recommended": recommend(rows)}


__all__ = ["Base", "BaseError", "GridError", "explore", "load_base", "make_base", "parse_sets"]
