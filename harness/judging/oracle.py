"""The oracle comparison: what the deployed pipeline did against what `shardproof simulate` predicted
(harness/scenarios/oracle.py) for the same records, the mapping as deployed and the declared consumer.

Any difference is a difference between the pipeline and the rules of the spec, or a consumer that
does not do what its scenario declares (the handler check in defaults.py says which).
"""

from __future__ import annotations

from typing import Any

from harness.judging.observation import Observation
from harness.verdict import Check, check

SPEC = "oracle (harness simulate): 0.2, 1, 2, 3.2, 3.3"


def compare(scenario: Any, predicted: dict[str, Any], obs: Observation) -> list[Check]:
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
