"""The oracle comparison: what the deployed pipeline did against what `shardproof simulate` predicted
(harness/scenarios/oracle.py) for the same records, the mapping as deployed and the declared consumer.

Any difference is a difference between the pipeline and the rules of the spec, or a consumer that
does not do what its scenario declares (the handler check in defaults.py says which).
"""

from __future__ import annotations

from typing import Any

from harness.esm.outcomes import DESTINATION_FAILED, drop_cause
from harness.judging.observation import Observation
from harness.verdict import Check, check

SPEC = "oracle (harness simulate): 0.2, 1, 2, 3.2, 3.3"


def _without_destination_failures(by_cause: dict[str, list[int]]) -> dict[str, list[int]]:
    return {c: v for c, v in by_cause.items() if c != DESTINATION_FAILED}


def compare(scenario: Any, predicted: dict[str, Any], obs: Observation) -> list[Check]:
    """Checks named after what AWS (the oracle) does; the message carries both sides."""
    checks: list[Check] = []
    delivered = sorted((o.summary() for o in obs.failure_objects), key=lambda d: d["records"])
    failed_delivery = [d for d in obs.dropped if drop_cause(d) == DESTINATION_FAILED]
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
    if predicted.get("undelivered") or (scenario.destination_available and failed_delivery):
        got_refused = sorted(i for d in failed_delivery for i in d["records"])
        checks.append(check("oracle: records the destination refused (injected outage) are dropped",
                            predicted.get("undelivered", []), got_refused, spec="7.3"))
    checks.append(check("oracle: processed (committed) records", predicted["processed"], obs.processed, spec=SPEC))
    # Every drop but a failed destination write (compared above), by cause: trimmed by retention,
    # record age or retries exhausted with no destination.
    checks.append(check("oracle: records dropped without a failure record, by cause",
                        _without_destination_failures(predicted["dropped_by_cause"]),
                        obs.dropped_by_cause(exclude=(DESTINATION_FAILED,)), spec="1 (end of retries), 8"))
    checks.append(check("oracle: invocations (records of each invoke, in order)", predicted["invocations"],
                        [i["records"] for i in obs.invocations], spec="1, 2.1, 2.2"))
    return checks
