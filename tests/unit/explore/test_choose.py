"""explore's Pareto front and recommendation rule: fewest lost, then fewest good records in failure
records, then fewest duplicates, then shortest drain."""

from __future__ import annotations

from typing import Any

from harness.explore.choose import pareto, ranked, recommend


def row(lost: int = 0, good: int = 0, dups: int = 0, drain: float = 0.0, deployed: bool = False,
        invocations: int = 1, skipped: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"lost": lost, "good_in_failure_records": good, "duplicate_deliveries": dups, "drain_s": drain,
                         "deployed": deployed, "invocations": invocations}
    if skipped:
        r = {**{k: None for k in r}, "deployed": deployed, "skipped": skipped}
    return r


def test_rule_order_lost_first_then_good_in_failure_then_duplicates_then_drain() -> None:
    rows = [row(lost=1, drain=0), row(good=5, drain=1), row(good=0, dups=9, drain=2), row(good=0, dups=1, drain=50),
            row(good=0, dups=1, drain=40)]
    assert ranked(rows) == [4, 3, 2, 1, 0]
    assert recommend(rows) == 4


def test_ties_go_to_the_deployed_row_then_fewer_invocations() -> None:
    rows = [row(invocations=3), row(invocations=2), row(invocations=5, deployed=True)]
    assert recommend(rows) == 2
    rows[2]["deployed"] = False
    assert recommend(rows) == 1


def test_skipped_rows_are_never_recommended_nor_on_the_front() -> None:
    rows = [row(skipped="BatchSize=0 must be 1..10000"), row(lost=3)]
    assert recommend(rows) == 1
    assert pareto(rows) == [1]
    assert recommend([row(skipped="x")]) is None


def test_pareto_keeps_every_undominated_trade_off() -> None:
    rows = [row(good=0, drain=100), row(good=5, drain=1), row(good=5, drain=100), row(good=0, drain=100)]
    # 2 is beaten by 0 (and by 1); 0 and 3 are equal, so both stay.
    assert pareto(rows) == [0, 1, 3]
