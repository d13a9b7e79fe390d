"""The oracle comparison: what `run_simulation` says AWS does with this mapping, these records and
the declared consumer behaviour, against what the deployed pipeline did.

The simulation spec is built from the mapping as deployed (read back through the ESM API, the way
GetEventSourceMapping shows it: never from CDK context keys), the scenario's poison indexes and
declared handler, and the same engine settings, so any difference is a difference between the
pipeline and the rules of the spec, or a consumer that does not do what its scenario declares
(the handler check says which).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.esm import EngineSettings, run_simulation
from harness.scenarios.model import Scenario
from harness.scenarios.observe import Observation
from harness.scenarios.streams import StreamRecord
from harness.verdict import Check, check

ORACLE_BUCKET = "arn:aws:s3:::oracle-failure-bucket"
MAPPING_KEYS = ("BatchSize", "MaximumRetryAttempts", "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds",
                "FunctionResponseTypes", "MaximumBatchingWindowInSeconds", "ParallelizationFactor",
                "TumblingWindowInSeconds")
SPEC = "oracle (harness simulate): 0.2, 1, 2, 3.2, 3.3"


def report_batch_item_failures(mapping: dict[str, Any]) -> bool:
    return "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])


def build_spec(scenario: Scenario, mapping: dict[str, Any], settings: EngineSettings,
               stream: list[StreamRecord], clock: dict[str, float] | None = None) -> dict[str, Any]:
    """The `run_simulation` spec for this scenario; `mapping` is the deployed mapping's description and
    `stream` the records the stream really held (the simulation replays exactly those, see predict).

    StartingPosition is TRIM_HORIZON whatever the mapping says: the runner writes a LATEST mapping's
    items only once it reads at the tip (spec 7.1), so it sees every item, as from the horizon.
    `handler.fail` holds stream positions: the records written by the poison items.
    """
    missing = [k for k in ("BatchSize", "MaximumRetryAttempts") if k not in mapping]
    if missing:
        raise ValueError(f"scenario {scenario.name!r}: deployed event source mapping lacks {missing}")
    m = {k: mapping[k] for k in MAPPING_KEYS if k in mapping}
    if mapping.get("FilterCriteria"):
        m["FilterCriteria"] = mapping["FilterCriteria"]
    m["DestinationConfig"] = {"OnFailure": {"Destination": ORACLE_BUCKET}} if (
        (mapping.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")) else {}
    engine = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings) if f.name != "backoff"}
    engine["backoff"] = dataclasses.asdict(settings.backoff)
    poison = set(scenario.poison)
    handler: dict[str, Any] = {"fail": [pos for pos, s in enumerate(stream) if s.index in poison],
                               "mode": scenario.handler_mode(report_batch_item_failures(mapping))}
    if scenario.fail_times is not None:
        handler["fail_times"] = scenario.fail_times
    spec: dict[str, Any] = {"mapping": m, "handler": handler, "engine": engine}
    if clock:
        spec["clock"] = clock
    return spec


def predict(spec: dict[str, Any], stream: list[StreamRecord]) -> dict[str, Any]:
    """Run the oracle over the stream's own records and reduce its output to the fields a scenario
    compares, with stream positions turned back into item indexes."""
    sim = run_simulation(spec, stream_records=[s.record for s in stream])
    index = [s.index if s.index is not None else -1 for s in stream]

    def items(positions: list[int]) -> list[int]:
        return [index[p] for p in positions]

    destination = []
    for d in sim["destination"]:
        env = d["envelope"]
        rc = env.get("responseContext")
        info = next(v for k, v in env.items() if k.endswith("BatchInfo"))
        destination.append({"records": items(d["records"]), "condition": d["condition"],
                            "approximateInvokeCount": env["requestContext"]["approximateInvokeCount"],
                            "functionError": rc.get("functionError") if rc else None,
                            "batchSize": info["batchSize"]})
    out = {"destination": destination, "processed": sorted(items(sim["processed"])),
           "dropped": sorted(items(sim["dropped"])), "filtered": sorted(items(sim["filtered"])),
           "invocations": [items(i["records"]) for i in sim["invocations"]],
           "invocation_count": len(sim["invocations"]), "metrics": sim["metrics"]}
    if sim.get("warnings"):
        out["warnings"] = sim["warnings"]
    return out


def compare(scenario: Scenario, predicted: dict[str, Any], obs: Observation) -> list[Check]:
    """Checks named after what AWS (the oracle) does; the message carries both sides."""
    checks: list[Check] = []
    delivered = sorted((o.summary() for o in obs.failure_objects), key=lambda d: d["records"])
    failed_delivery = [d for d in obs.dropped if d["reason"] == "destination delivery failed"]
    other_dropped = sorted(i for d in obs.dropped if d["reason"] != "destination delivery failed" for i in d["records"])
    expected_dest = sorted(predicted["destination"], key=lambda d: d["records"])
    if scenario.destination_available:
        checks.append(check("oracle: destination records (records, condition, approximateInvokeCount, "
                            "functionError, batchSize) as AWS writes them", expected_dest, delivered, spec=SPEC))
    else:
        # Spec 7.3 [GAP] default: what would have gone to the destination is dropped instead.
        exp = [{"records": d["records"], "condition": d["condition"]} for d in expected_dest]
        got = sorted(({"records": d["records"], "condition": d["condition"]} for d in failed_delivery),
                     key=lambda d: d["records"])
        checks.append(check("oracle: records AWS would send to the destination are dropped when delivery fails",
                             exp, got, spec="7.3"))
        checks.append(check("oracle: nothing reaches the unavailable destination", [], delivered, spec="7.3"))
    checks.append(check("oracle: processed (committed) records", predicted["processed"], obs.processed, spec=SPEC))
    checks.append(check("oracle: records dropped without a destination", predicted["dropped"], other_dropped,
                        spec="1 (end of retries)"))
    checks.append(check("oracle: invocations (records of each invoke, in order)", predicted["invocations"],
                        [i["records"] for i in obs.invocations], spec="1, 2.1, 2.2"))
    return checks
