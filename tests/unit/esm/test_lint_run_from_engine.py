"""The engine's journal feeds lint_run: `response_has_batch_item_failures` on invoke_result
(spec 2.2), and re-deliveries under partial batch responses without bisect (spec 2.2, 0.3)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from harness.invoke import InvokeResult
from harness.lint import lint_run


def partial(h: SimpleNamespace, failing: set[int]):
    def respond(idx: list[int], call: int) -> InvokeResult:
        failures = [{"itemIdentifier": h.seq_of(i)} for i in idx if i in failing]
        return InvokeResult(200, json.dumps({"batchItemFailures": failures}).encode(), None, f"req-{call}")
    return respond


def test_spec_2_2_invoke_result_says_when_ignored_batch_item_failures_came_back(h: SimpleNamespace) -> None:
    """Without ReportBatchItemFailures the response is ignored (spec 2.2): every batch commits, but the
    journal records that the function reported failures."""
    params = {"BatchSize": 2, "MaximumRetryAttempts": 0}
    run = h.run(params, 4, partial(h, failing={1}))
    results = run.journal.entries("invoke_result")
    assert [r["outcome"] for r in results] == ["success", "success"]
    assert [r["response_has_batch_item_failures"] for r in results] == [True, False]
    [f] = lint_run(run.journal, params)
    assert (f.rule, f.observed) == ("ignored-batch-item-failures", 1)


def test_spec_2_2_field_is_false_for_errors_and_for_mappings_that_read_the_response(h: SimpleNamespace) -> None:
    run = h.run({"BatchSize": 2, "MaximumRetryAttempts": 0, "FunctionResponseTypes": ["ReportBatchItemFailures"]},
                2, partial(h, failing={1}))
    assert {r["response_has_batch_item_failures"] for r in run.journal.entries("invoke_result")} == {False}
    failing = h.run({"BatchSize": 1, "MaximumRetryAttempts": 0}, 1, lambda idx, call: h.unhandled())
    assert [r["response_has_batch_item_failures"] for r in failing.journal.entries("invoke_result")] == [False]


def test_spec_2_2_0_3_partial_without_bisect_redeliveries_from_the_engine(h: SimpleNamespace) -> None:
    """Spec 0.3: BatchSize 3, record 1 always reported failed, 2 retries: 1 and 2 are re-sent with each retry."""
    params = {"BatchSize": 3, "MaximumRetryAttempts": 2, "FunctionResponseTypes": ["ReportBatchItemFailures"]}
    run = h.run(params, 3, partial(h, failing={1}))
    assert run.calls[:4] == [[0, 1, 2], [1, 2], [1, 2], [1, 2]]
    [f] = lint_run(run.journal, params, mapping="M")
    assert (f.rule, f.mapping) == ("partial-batch-without-bisect", "M")
    again = sum(len(c) for c in run.calls) - 3
    assert f.observed == again and again >= 6
