"""lint_run: the rules counted in a run's journal (entries shaped as harness/esm/processor.py writes them)."""

from __future__ import annotations

from typing import Any

from harness.esm.processor import PARTIAL
from harness.journal import Journal
from harness.lint import lint_run
from harness.lint.run_rules import PARTIAL_OUTCOME, redeliveries

RBIF = {"FunctionResponseTypes": ["ReportBatchItemFailures"], "BisectBatchOnFunctionError": False, "BatchSize": 4}
UUID = "11111111-2222-3333-4444-555555555555"


def invoked(j: Journal, seqs: list[str], uuid: str = UUID, shard: str = "s1") -> None:
    j.record("invoked", uuid=uuid, shard_id=shard, sequence_numbers=seqs)


def result(j: Journal, seqs: list[str], outcome: str, *, failed: list[str] | None = None,
           committed: list[str] | None = None, has_bif: bool = False, uuid: str = UUID, shard: str = "s1") -> None:
    j.record("invoke_result", uuid=uuid, shard_id=shard, sequence_numbers=seqs, outcome=outcome,
             failed_sequence_numbers=failed, committed_sequence_numbers=committed or [],
             response_has_batch_item_failures=has_bif)


def partial_run() -> Journal:
    """Records 1-4, record 2 always reported failed, two retries: 2,3,4 then 2,3,4 again."""
    j = Journal()
    invoked(j, ["1", "2", "3", "4"])
    result(j, ["1", "2", "3", "4"], PARTIAL_OUTCOME, failed=["2"], committed=["1"])
    for _ in range(2):
        invoked(j, ["2", "3", "4"])
        result(j, ["2", "3", "4"], PARTIAL_OUTCOME, failed=["2"], committed=[])
    return j


def test_the_journal_outcome_name_is_the_engines() -> None:
    assert PARTIAL_OUTCOME == PARTIAL


def test_spec_2_2_0_3_redeliveries_are_counted_and_those_after_success_told_apart() -> None:
    """Spec 2.2: records after the lowest failed one are re-sent, those that succeeded too."""
    again, after_success = redeliveries(partial_run().entries())
    assert (again, after_success) == (6, 4)  # 2,3,4 twice; 3 and 4 had succeeded each time


def test_spec_2_2_0_3_lint_run_reports_redeliveries_under_partial_without_bisect() -> None:
    [f] = lint_run(partial_run(), RBIF, mapping_uuid=UUID, mapping="ConsumerMapping")
    assert (f.rule, f.mapping, f.observed, f.spec_section) == ("partial-batch-without-bisect", "ConsumerMapping", 6, "§2.2, §0.3")
    assert "again 6 time(s)" in f.message and "4 of them records the function had already processed" in f.message


def test_lint_run_keeps_only_the_mapping_asked_for() -> None:
    j = partial_run()
    assert lint_run(j, RBIF, mapping_uuid="another-mapping") == []
    other = Journal()
    invoked(other, ["1"], shard="s1")
    invoked(other, ["1"], shard="s2")  # the same sequence number on another shard is another record
    assert redeliveries(other.entries()) == (0, 0)


def test_spec_2_2_no_partial_finding_when_bisect_is_on_or_batches_are_single() -> None:
    for settings in ({**RBIF, "BisectBatchOnFunctionError": True}, {**RBIF, "BatchSize": 1}):
        assert lint_run(partial_run(), settings) == []


def test_spec_2_2_ignored_batch_item_failures_are_counted() -> None:
    j = Journal()
    for n, has in enumerate((True, False, True)):
        invoked(j, [str(n)])
        result(j, [str(n)], "success", committed=[str(n)], has_bif=has)
    [f] = lint_run(j, {"FunctionResponseTypes": [], "BatchSize": 10})
    assert (f.rule, f.observed, f.mapping) == ("ignored-batch-item-failures", 2, "mapping")
    assert f.message.startswith("2 invocation(s) returned batchItemFailures")


def test_spec_2_2_no_ignored_finding_when_the_mapping_reads_them_or_none_came_back() -> None:
    j = Journal()
    invoked(j, ["1"])
    result(j, ["1"], "success", committed=["1"], has_bif=True)
    assert lint_run(j, RBIF) == []
    quiet = Journal()
    invoked(quiet, ["1"])
    result(quiet, ["1"], "success", committed=["1"])
    assert lint_run(quiet, {}) == []


def test_lint_run_accepts_plain_entry_dicts() -> None:
    entries: list[dict[str, Any]] = list(partial_run().entries())
    assert [f.observed for f in lint_run(entries, RBIF)] == [6]
