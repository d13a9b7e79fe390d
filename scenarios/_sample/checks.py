"""Checks of the sample stack's own domain: orders projected, the failure handler's archive.

They read the projection table and the bucket's archive prefix, which only this stack has; the
harness's default checks (harness/judging/defaults.py) already cover what every stack must do.
"""

from __future__ import annotations

from typing import Any

from _sample.projection import projected, projection_log
from harness.failures import FailureStore
from harness.verdict import Check, check


def pk_of(run: Any, index: int) -> str:
    return str(run.scenario.items[index]["pk"])


def all_good_projected(obs: Any, run: Any, poison: list[int]) -> Check:
    good = sorted(pk_of(run, i) for i in range(run.scenario.count) if i not in set(poison))
    done = projected(run)
    return check("every good order projected", good, sorted(p for p in done if p in set(good)))


def poison_not_projected(obs: Any, run: Any, poison: list[int]) -> Check:
    bad = [pk_of(run, i) for i in poison]
    done = projected(run)
    return check("no poison order projected", [], sorted(p for p in bad if p in done))


def projected_once_in_order(obs: Any, run: Any) -> list[Check]:
    """Spec 1 (order per shard): first projections happen in stream order, once per item."""
    log = projection_log(run)
    seqs = [int(e["seq"]) for e in log if e["seq"]]
    counts: dict[str, int] = {}
    for e in log:
        counts[e["pk"]] = counts.get(e["pk"], 0) + 1
    return [
        check("projection writes happen in shard (sequence) order", sorted(seqs), seqs, spec="1 (ordering)"),
        check("every item projected exactly once", {}, {k: v for k, v in counts.items() if v != 1}, spec="7.1"),
    ]


def archived(obs: Any, run: Any) -> Check:
    """The sample failure handler copies each failure object to archive/condition=<condition>/date=.../."""
    store = FailureStore(run.pipe.backend.client("s3"), run.pipe.output("FailureBucketName"))
    keys = sorted(o["Key"] for o in store.iter_keys("archive/") if not o["Key"].startswith("archive/condition=malformed/"))
    valid = [o for o in obs.failure_objects if not o.error]
    return check("failure handler archived each failure object under archive/condition=<condition>/date=.../",
                 sorted(f"archive/condition={o.condition}/" for o in valid), sorted(k.split("date=")[0] for k in keys))
