"""Lint over what a run did: the journal shows how often a static warning actually cost something.

Reads the engine's journal entries (`invoked`, `invoke_result`, harness/esm/processor.py), never
its internals, like every other judge of a run.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping

from harness.lint.finding import IGNORED_BATCH_ITEM_FAILURES, PARTIAL_WITHOUT_BISECT, Finding, finding
from harness.lint.stack_rules import report_batch_item_failures

PARTIAL_OUTCOME = "partial_failure"  # harness.esm.processor.PARTIAL, as the journal writes it


def lint_run(entries: Iterable[Mapping[str, Any]], mapping_settings: Mapping[str, Any], *,
             mapping_uuid: str | None = None, mapping: str | None = None) -> list[Finding]:
    """Findings the run shows for one mapping: re-deliveries under partial batch responses without
    bisect (spec 2.2, 0.3), and invocations whose batchItemFailures the mapping ignored (spec 2.2).

    `entries` are journal entries (a Journal, or its entries as dicts); `mapping_settings` the
    mapping's settings (MappingDesc.settings, or the Lambda API parameters the run used);
    `mapping_uuid` keeps only that mapping's entries; `mapping` is the logical id the findings
    name (the UUID, or "mapping", when not given). A rule fires only when the run shows it.
    """
    name = mapping or mapping_uuid or "mapping"
    selected = [e for e in entries if mapping_uuid is None or e.get("uuid") == mapping_uuid]
    findings: list[Finding] = []
    rbif = report_batch_item_failures(mapping_settings)
    batch = mapping_settings.get("BatchSize", 100)
    if rbif and mapping_settings.get("BisectBatchOnFunctionError", False) is False and isinstance(batch, int) and batch > 1:
        again, after_success = redeliveries(selected)
        if again:
            findings.append(finding(
                PARTIAL_WITHOUT_BISECT, name,
                f"the run delivered records again {again} time(s) after their first delivery, {after_success} of them "
                "records the function had already processed (they followed a failed record in a partial batch "
                "response); BisectBatchOnFunctionError is off", observed=again))
    if not rbif:
        ignored = sum(1 for e in selected
                      if e.get("kind") == "invoke_result" and e.get("response_has_batch_item_failures") is True)
        if ignored:
            findings.append(finding(
                IGNORED_BATCH_ITEM_FAILURES, name,
                f"{ignored} invocation(s) returned batchItemFailures that the mapping ignored (FunctionResponseTypes "
                "lacks ReportBatchItemFailures): the records they reported were acknowledged as processed",
                observed=ignored))
    return findings


def redeliveries(entries: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """(deliveries of a record after its first, how many of those followed a delivery in which the
    function processed it: a partial response that neither reported it failed nor let it commit)."""
    delivered: Counter[tuple[Any, Any, str]] = Counter()
    processed: set[tuple[Any, Any, str]] = set()
    again = after_success = 0
    for e in entries:
        kind = e.get("kind")
        where = (e.get("uuid"), e.get("shard_id"))
        if kind == "invoked":
            for seq in e.get("sequence_numbers") or ():
                key = (*where, str(seq))
                if delivered[key]:
                    again += 1
                    after_success += key in processed
                delivered[key] += 1
        elif kind == "invoke_result" and e.get("outcome") == PARTIAL_OUTCOME:
            failed = {str(s) for s in e.get("failed_sequence_numbers") or ()}
            committed = {str(s) for s in e.get("committed_sequence_numbers") or ()}
            for seq in e.get("sequence_numbers") or ():
                if str(seq) not in failed and str(seq) not in committed:
                    processed.add((*where, str(seq)))
    return again, after_success
