"""Each combination of the grid through the oracle, over the same stream records.

The simulate spec is the one a scenario run's oracle comparison builds (harness.scenarios.oracle.
build_spec), fed the combination's settings instead of the deployed mapping's, so explore and the
judge of a real run can never disagree about what AWS does with the same settings. The engine
runs with its default settings (a virtual clock and AWS's retry cadence, spec 1 [GAP] default, so
drain and blocked times are in AWS-like seconds) and the stream's own retention (spec 8, 10).
"""

from __future__ import annotations

from typing import Any

from harness.esm import EngineSettings, SimulationSpecError, run_simulation
from harness.explore.base import Base
from harness.explore.grid import PARAMETERS, Combination
from harness.explore.metrics import METRICS, row_metrics
from harness.judging import faults as judging_faults
from harness.scenarios.oracle import build_spec

# Where the oracle writes failure records. An SQS stand-in holds the envelope only (spec 3.4), so
# no run serialises a failing batch's payload; which records go there, and when, do not depend on
# the destination's kind (spec 3), except that a FIFO queue or topic always fails (spec 3.1), so a
# FIFO destination gets a FIFO stand-in.
STAND_IN_DESTINATION = "arn:aws:sqs:us-east-1:123456789012:explore-failures"


def api_mapping(base: Base, settings: dict[str, Any]) -> dict[str, Any]:
    """The combination as GetEventSourceMapping would show it (what build_spec reads)."""
    m: dict[str, Any] = {k: settings[k] for k in PARAMETERS if k != "DestinationConfig"}
    m["FunctionResponseTypes"] = list(settings["FunctionResponseTypes"])
    m["DestinationConfig"] = ({"OnFailure": {"Destination": "deployed"}} if settings["DestinationConfig"] == "deployed"
                              else {})
    if base.filter_criteria:
        m["FilterCriteria"] = base.filter_criteria
    return m


def simulation_spec(base: Base, settings: dict[str, Any]) -> dict[str, Any]:
    """The run_simulation spec of one combination; the scenario's faults ride along as `faults`."""
    spec = build_spec(base.scenario, api_mapping(base, settings), EngineSettings(retention_s=base.retention_s), base.stream,
                      {"start": base.stream[0].arrival if base.stream else 0.0})
    if spec["mapping"].get("DestinationConfig"):
        fifo = base.pipeline.mapping.destination is not None and base.pipeline.mapping.destination.fifo
        spec["mapping"]["DestinationConfig"] = {
            "OnFailure": {"Destination": STAND_IN_DESTINATION + (".fifo" if fifo else "")}}
    faults = getattr(base.scenario, "faults", None)
    if faults:
        # Fault `items` are item indexes; here they are stream positions too (one record per item).
        spec["faults"] = [dict(f) for f in faults]
    return spec


def run_row(base: Base, combo: Combination, records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One output row; a combination the oracle refuses is skipped with the oracle's reason."""
    row: dict[str, Any] = {"settings": dict(combo.settings), "deployed": combo.settings == base.settings}
    if combo.skipped:
        return {**row, **{k: None for k in METRICS}, "skipped": combo.skipped}
    spec = simulation_spec(base, combo.settings)
    try:
        sim = run_simulation(spec, stream_records=records if records is not None else [s.record for s in base.stream])
    except SimulationSpecError as exc:
        return {**row, **{k: None for k in METRICS}, "skipped": f"the oracle refuses it: {exc}"}
    poison = set(spec["handler"]["fail"]) | set(fault_poison(base))
    row.update(row_metrics(sim, poison=poison, fail_times=spec["handler"].get("fail_times")))
    if sim.get("warnings"):
        row["warnings"] = sim["warnings"]
    return row


def fault_poison(base: Base) -> list[int]:
    """Items a fault on the consumer fails on every attempt: poison, as the judge of a real run
    counts them (harness.judging.faults), unless the scenario sets `poison:` itself."""
    faults = getattr(base.scenario, "faults", None)
    if not faults:
        return []
    return judging_faults.fault_poison(base.scenario, [dict(f) for f in faults],
                                       base.pipeline.consumer.logical_id, base.stream)


def run_grid(base: Base, combos: list[Combination]) -> list[dict[str, Any]]:
    """Every combination, in grid order; the records are built once and shared (the engine only reads them)."""
    records = [s.record for s in base.stream]
    return [run_row(base, c, records) for c in combos]
