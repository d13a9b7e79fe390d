"""The default checks every scenario gets, on any team's stack, with no knowledge of its domain.

What a poison record must do is the same in every pipeline: end in a failure record (or be dropped
with its reason), take no good record with it where the mapping's settings isolate it, leave the
other records of its key in order, and be written in AWS's envelope and key layout; the failure
handler must hear of every failure record. Processed records come from the journal (successful
invocations minus what a partial response reported), never from a stack's own tables.

One more check stands apart: whether the consumer behaved as its scenario declares (`handler`).
When it did not (it raised where `partial` was declared), the verdict blames the consumer, not the
fidelity of the harness to AWS.

`scenario` is a harness.scenarios.Scenario (its poison, fail_times and handler_mode are read);
judging takes it as it comes rather than importing the package that runs it.
"""

from __future__ import annotations

from typing import Any, Mapping

from harness.esm.outcomes import (DESTINATION_FAILED, DROP_CAUSES, IN_FAILURE_RECORD, RECORD_AGE, RETRIES_EXHAUSTED,
                                   TRIMMED, drop_cause)
from harness.judging.expect_block import accepted_drops
from harness.judging.observation import Observation, report_batch_item_failures
from harness.verdict import Check, check

HANDLER_CHECK = "the consumer responds as its scenario declares (handler)"
IGNORED = ("the mapping ignores batchItemFailures: its FunctionResponseTypes lacks ReportBatchItemFailures, so the "
           "records the consumer reported failed were committed as processed (spec 2.2)")


def stream_checks(obs: Observation) -> list[Check]:
    """The judge can only judge what it can map: every record to an item, every item to a record."""
    return [
        check("every sequence number in the journal maps to a written item (stream read back)", [],
              obs.unmapped_sequences),
        check("every stream record was made by one of the scenario's items", [], obs.unexplained_records, spec="6"),
    ]


def envelope_checks(obs: Observation, mapping_uuid: str) -> list[Check]:
    """Every failure record is a valid ESM record; S3 objects in AWS's key layout, string payload,
    sorted keys (spec 3.2, 3.5, 4)."""
    objs = obs.failure_objects
    checks = [check("every failure record is a valid ESM failure record", [],
                    [f"{o.key}: {o.error}" for o in objs if o.error], spec="3.2")]
    s3 = [o for o in objs if o.kind == "s3" and not o.error]
    if s3:
        checks.append(check("failure object keys use aws/lambda/<ESM UUID>/<shard>/...", [],
                            [o.key for o in s3 if not o.key.startswith(f"aws/lambda/{mapping_uuid}/{o.shard}/")],
                            spec="4"))
        checks.append(check("failure object payload is a JSON string", [],
                            [o.key for o in s3 if not o.payload_is_string], spec="3.5"))
        checks.append(check("failure object keys are written alphabetically sorted, as AWS does", [],
                            [o.key for o in s3 if o.top_level_keys != sorted(o.top_level_keys)], spec="3.2"))
    return checks


def _where(i: int, obs: Observation) -> str:
    if any(i in o.records for o in obs.failure_objects):
        return "failure-record"
    causes = [drop_cause(d) for d in obs.dropped if i in d["records"]]
    if causes:
        return f"dropped ({causes[0]})"
    if i in obs.processed:
        return "processed"
    if i in obs.filtered:
        return "filtered"
    return "nowhere (lost)"


def poison_checks(scenario: Any, obs: Observation, expect: Mapping[str, Any]) -> list[Check]:
    """Every poison item ends failed: in a failure record, or dropped with its reason (or as `expect.poison` says)."""
    if not scenario.poison:
        return []
    wanted = expect.get("poison", "failed")
    ok = {"failed": lambda w: w == "failure-record" or w.startswith("dropped"),
          "failure-record": lambda w: w == "failure-record",
          "dropped": lambda w: w.startswith("dropped"),
          "processed": lambda w: w == "processed"}[wanted]
    wrong = {}
    ignored = not report_batch_item_failures(obs.mapping) and any(
        i.get("response_has_batch_item_failures") for i in obs.invocations)
    for p in sorted(scenario.poison):
        where = _where(p, obs)
        if not ok(where):
            wrong[p] = where + (f": {IGNORED}" if ignored and where == "processed" else "")
    what = {"failed": "in a failure record or dropped with its reason", "failure-record": "in a failure record",
            "dropped": "dropped with its reason", "processed": "processed"}[wanted]
    return [check(f"every poison item ends {what}", {}, wrong, spec="1 (end of retries), 2, 3")]


LOSS_CHECK = "no good item lost: every item that is not poison ends processed or filtered, unless expect names its outcome"


def loss_checks(scenario: Any, obs: Observation, expect: Mapping[str, Any]) -> list[Check]:
    """A good item (not poison) that ends neither processed nor filtered is data loss, whatever
    took it: trimmed by retention, dropped for record age or spent retries, sent to a failure record
    with the poison, or lost. It fails the scenario, naming the items and the cause, unless
    `expect.dropped` / `expect.in_failure_records` names that outcome for them (a loss the team
    documents and accepts). Spec 1, 3, 8."""
    poison = set(scenario.poison)
    accepted_in_failures = set(expect.get("in_failure_records") or ())
    in_failures = {i for o in obs.failure_objects for i in o.records}
    cause_of: dict[int, str] = {}
    for d in obs.dropped:
        for i in d["records"]:
            cause_of.setdefault(i, drop_cause(d))
    done = set(obs.processed) | set(obs.filtered)
    groups: dict[str, list[int]] = {}
    for item in obs.injected:
        i = item["index"]
        if i in poison or i in done:
            continue
        if i in in_failures:
            if i not in accepted_in_failures:
                groups.setdefault(IN_FAILURE_RECORD, []).append(i)
        elif i in cause_of:
            if i not in accepted_drops(expect, cause_of[i]):
                groups.setdefault(cause_of[i], []).append(i)
        else:
            groups.setdefault("lost", []).append(i)
    order = (*DROP_CAUSES, IN_FAILURE_RECORD, "lost")
    return [check(LOSS_CHECK, [], [_loss_message(key, groups[key], scenario, obs)
                                   for key in order if key in groups], spec="1, 3, 8")]


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def _items(indexes: list[int] | set[int]) -> str:
    ordered = sorted(indexes)
    return ("item " if len(ordered) == 1 else "items ") + ", ".join(map(str, ordered))


def _loss_message(key: str, items: list[int], scenario: Any, obs: Observation) -> str:
    """What happened to these good items, in the words of the mapping's settings."""
    m = obs.mapping
    retries = m.get("MaximumRetryAttempts")
    invoked = {i for inv in obs.invocations for i in inv["records"]}
    blockers = sorted(set(scenario.poison) & invoked - set(obs.processed))
    accept = "expect.dropped"
    if key == TRIMMED:
        retention = next((d.get("retention_s") for d in obs.dropped
                          if drop_cause(d) == TRIMMED and d.get("retention_s")), None)
        after = f" after {_duration(retention)}" if retention else ""
        text = f"{_items(items)} trimmed from the stream{after}"
        if blockers:
            limit = " without limit" if retries in (-1, None) else f" ({retries} retries per batch)"
            text += f" while the shard retried {_items(blockers)}{limit}"
        else:
            text += " before they were processed"
    elif key == RECORD_AGE:
        text = (f"{_items(items)} dropped: older than MaximumRecordAgeInSeconds "
                f"({m.get('MaximumRecordAgeInSeconds')} s) with no on-failure destination")
    elif key == RETRIES_EXHAUSTED:
        text = f"{_items(items)} dropped after MaximumRetryAttempts ({retries}) with no on-failure destination"
        if blockers:
            text += f", in a batch with {_items(blockers)}"
    elif key == DESTINATION_FAILED:
        text = f"{_items(items)} dropped: the on-failure destination could not be written (spec 7.3)"
    elif key == IN_FAILURE_RECORD:
        objs = [o for o in obs.failure_objects if set(o.records) & set(items)]
        conditions = sorted({o.condition or "?" for o in objs})
        with_poison = sorted({i for o in objs for i in o.records} & set(scenario.poison))
        text = f"{_items(items)} sent to a failure record ({', '.join(conditions)}) unprocessed"
        if with_poison:
            text += f" with poison {_items(with_poison)}"
        if not m.get("BisectBatchOnFunctionError") and (m.get("BatchSize") or 0) > 1:
            text += (f": the settings cannot isolate poison (BisectBatchOnFunctionError false, "
                     f"BatchSize {m.get('BatchSize')})")
        accept = "expect.in_failure_records"
    else:
        return (f"{_items(items)} lost: neither processed, filtered, in a failure record nor dropped "
                "(at-most-once delivery)")
    return f"{text}; a team that accepts this names the items in {accept}"


def isolation_checks(scenario: Any, obs: Observation, predicted: dict[str, Any] | None,
                     expect: Mapping[str, Any]) -> list[Check]:
    """No good item in a failure record, where the deployed settings isolate poison (bisect, or
    the oracle predicts failure records of poison only)."""
    wanted = expect.get("isolated")
    if wanted is None:
        wanted = predicted is not None and bool(predicted["destination"]) and all(
            set(d["records"]) <= set(scenario.poison) for d in predicted["destination"])
    if not wanted:
        return []
    good = sorted({i for o in obs.failure_objects for i in o.records if i not in set(scenario.poison)})
    return [check("no good item in a failure record (the settings isolate poison)", [], good, spec="2.1, 2.4")]


def order_checks(obs: Observation, expect: Mapping[str, Any]) -> list[Check]:
    """Records of one key are committed in stream order (spec 1: in order per shard, per item key
    with ParallelizationFactor)."""
    if expect.get("order") is False:
        return []
    first: dict[int, int] = {}
    for n, i in enumerate(obs.commits):
        first.setdefault(i, n)
    by_key: dict[str, list[int]] = {}
    for i in sorted(first, key=first.__getitem__):
        by_key.setdefault(obs.key_of.get(i, "?"), []).append(i)
    backwards = {key: seq for key, seq in by_key.items() if seq != sorted(seq)}
    return [check("records of one key are processed in stream order", {}, backwards, spec="1 (ordering)")]


def _expected_response(mode: str, failing: list[int], records: list[int], rbif: bool) -> str:
    if not failing:
        return "success"
    if mode in ("raise", "timeout"):
        return "function_error"
    if mode == "partial-malformed":
        return "invalid_response" if rbif else "success"
    if mode == "partial-or-raise" and len(failing) == len(records):
        return "function_error"
    return "partial_failure" if rbif else "success"


def handler_checks(scenario: Any, obs: Observation) -> list[Check]:
    """The consumer's observed responses against the declared `handler`, invocation by invocation.

    A mismatch is the consumer's doing (its code, or a poison list that does not match what it
    rejects), so this check tells a wrong scenario from a harness that differs from AWS.
    """
    rbif = report_batch_item_failures(obs.mapping)
    mode = scenario.handler_mode(rbif)
    poison = set(scenario.poison)
    deliveries: dict[int, int] = {}
    wrong = []
    for inv in obs.invocations:
        if inv["outcome"] == "service_error":
            continue  # never reached the function (spec 1)
        if inv.get("fault"):
            continue  # an injected fault answered (or shaped the answer), not the consumer's own code
        failing = []
        for i in inv["records"]:
            deliveries[i] = deliveries.get(i, 0) + 1
            if i in poison and (scenario.fail_times is None or deliveries[i] <= scenario.fail_times):
                failing.append(i)
        want = _expected_response(mode, failing, inv["records"], rbif)
        got = inv["outcome"]
        if want == "success" and mode.startswith("partial") and not rbif and failing:
            # The ESM ignores the response; what the consumer answered is in the journal all the same.
            got_partial = inv.get("response_has_batch_item_failures")
            if got_partial is False:
                wrong.append(f"items {inv['records']}: declared {mode} should report {failing} in batchItemFailures, "
                             "but the response had none")
            continue
        if got != want or (got == "partial_failure" and sorted(inv["failed"]) != sorted(failing)):
            detail = got + (f" {inv['function_error']}" if inv.get("function_error") else "")
            if got == "partial_failure":
                detail += f" reporting {sorted(inv['failed'])}"
            expected = want + (f" reporting {failing}" if want == "partial_failure" else "")
            wrong.append(f"items {inv['records']}: expected {expected}, observed {detail}")
    return [check(f"{HANDLER_CHECK}: {mode}", [], _counted(wrong), spec="2.2, 2.3")]


def _counted(lines: list[str]) -> list[str]:
    """Each distinct difference once, in first-seen order, with how often it recurred: a consumer
    retried without limit repeats the same one thousands of times."""
    counts: dict[str, int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    return [line if n == 1 else f"{line} (x{n})" for line, n in counts.items()]


def replay_checks(obs: Observation, expect: Mapping[str, Any]) -> list[Check]:
    """After replay steps: every record of every failure object replayed (or already, by the
    ledger) and nothing failed; `expect.replayed` names exactly which items were replayed."""
    summaries = obs.extra.get("replay_steps") or []
    if not summaries:
        return []
    index_of = {s.seq: s.index for s in obs.stream}
    in_failures = sorted({i for o in obs.failure_objects for i in o.records})
    replayed: set[int] = set()
    problems = []
    for n, summary in enumerate(summaries):
        for r in summary["records"]:
            if r["outcome"] in ("replayed", "already-replayed"):
                if r["seq"] in index_of and index_of[r["seq"]] is not None:
                    replayed.add(index_of[r["seq"]])
            else:
                problems.append(f"replay {n + 1}: item {index_of.get(r['seq'], r['seq'])}: {r['outcome']} {r['detail']}")
        problems.extend(f"replay {n + 1}: {e}" for e in summary.get("errors", []))
        problems.extend(f"replay {n + 1}: malformed {m['key']}" for m in summary.get("malformed", []))
    out = [check("every replay succeeded (nothing failed, blocked or unreadable)", [], problems, spec="3.4, 3.5"),
           check("every record of every failure record was replayed", in_failures,
                 sorted(replayed & set(in_failures)), spec="3.5, 4")]
    if "replayed" in expect:
        out.append(check("exactly these items replayed", expect["replayed"], sorted(replayed), spec="3.5"))
    return out


def failure_handler_checks(obs: Observation, handlers: tuple[str, ...], expect: Mapping[str, Any]) -> list[Check]:
    """The second Lambda heard of every failure object, and handled it (S3 ObjectCreated)."""
    if not handlers or expect.get("failure_handler") is False:
        return []
    keys = sorted(o.key for o in obs.failure_objects if o.kind == "s3" and not o.error)
    expected = [(k, f) for k in keys for f in sorted(handlers)]
    done = sorted({(n["key"], n["function"]) for n in obs.notifications if n.get("result") == "success"})
    return [check("every failure object reached each failure handler, which succeeded", expected,
                  [kf for kf in done if kf in set(expected)], spec="3, 4 (S3 ObjectCreated -> failure handler)")]


def alert_checks(obs: Observation, channels: tuple[str, ...], expect: Mapping[str, Any]) -> list[Check]:
    """An alert names each failure object (its key), on the channels the failure handler can reach."""
    wanted = expect.get("alerts")
    if not channels or wanted is False:
        return []
    per_object = 1 if wanted in (None, True) else int(wanted)
    import json

    texts = [a["body"] if isinstance(a["body"], str) else json.dumps(a["body"]) for a in obs.alerts]
    keys = sorted(o.key for o in obs.failure_objects if not o.error)
    counts = {k: sum(1 for t in texts if k in t) for k in keys}
    if wanted in (None, True):
        return [check("an alert names each failure record", [], [k for k, n in counts.items() if n < 1])]
    return [check(f"{per_object} alert(s) name each failure record", {k: per_object for k in keys}, counts)]
