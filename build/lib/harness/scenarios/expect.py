"""Reusable expectations for Python scenario files: each is a Check with the spec section it rests on.

They read only the Observation (backend + journal), never a stack's domain, so a scenario file
states what AWS does in a few lines and the message of a failing check says what differed. (A
stack's own checks, like the sample's projected orders, live beside its scenario files.)
"""

from __future__ import annotations

from typing import Any

from harness.scenarios.observe import Observation
from harness.verdict import Check, check


def failure_objects(obs: Observation, n: int, *, why: str = "", spec: str = "3") -> Check:
    return check(f"{n} failure object(s) in S3{' (' + why + ')' if why else ''}", n, len(obs.failure_objects),
                 spec=spec)


def isolated(obs: Observation, poison: list[int], *, spec: str = "2.1") -> list[Check]:
    """Each poison record alone in its own failure object: batchSize 1, start = end."""
    objs = sorted(obs.failure_objects, key=lambda o: o.records)
    return [
        check("failure objects hold exactly the poison records, one each", [[p] for p in sorted(poison)],
              [o.records for o in objs], spec=spec),
        check("every failure object: batchSize 1 and start = end sequence number", [(1, True)] * len(objs),
              [(o.batch_size, o.start_sequence == o.end_sequence) for o in objs], spec="3.2"),
    ]


def envelope(obs: Observation, *, condition: str, invoke_count: int | None, function_error: Any,
             response_context: bool = True, spec: str = "3.2, 3.3") -> list[Check]:
    objs = obs.failure_objects
    out = [check(f"condition {condition}", [condition] * len(objs), [o.condition for o in objs], spec="3.3")]
    if invoke_count is not None:
        out.append(check(f"approximateInvokeCount = {invoke_count}", [invoke_count] * len(objs),
                         [o.approximate_invoke_count for o in objs], spec="0.2"))
    if response_context:
        out.append(check(f"responseContext.functionError = {function_error!r}", [function_error] * len(objs),
                         [o.function_error for o in objs], spec=spec))
    else:
        out.append(check("no responseContext in the envelope", [False] * len(objs),
                         [o.has_response_context for o in objs], spec="3.3"))
    return out


def invocations_in_order(obs: Observation) -> Check:
    """No invocation starts before an earlier record of the shard is settled (spec 1)."""
    firsts = [min(i["records"]) for i in obs.invocations if i["records"]]
    backwards = [(a, b) for a, b in zip(firsts, firsts[1:]) if b < a]
    return check("invocations never go back in the shard (first record non-decreasing)", [], backwards,
                 spec="1 (ordering)")
