"""Run scenarios against a team's deployed stack and judge them; produce the result JSON.

For each scenario: synthesize the stack source (with the scenario's CDK context), find the
pipeline it exercises in the template (harness/deploy/template_reader.py), check its items against the
stream (key schema...), deploy to a fresh backend, write the items, let the pipeline settle, and
judge what happened from the backend and the journal (harness/judging: the defaults every scenario
gets, its `expect` block, its own checks, and the oracle, `shardproof simulate` over the same records
with the mapping as deployed and the declared consumer behaviour). `_run` reads as those steps.

Each scenario gets its own LocalPipeline (the embedded backend is one moto server per process and
start() resets it). Writes happen before the ESM polls (TRIM_HORIZON), or, for a LATEST mapping,
once every shard reader sits at the tip with polling held (spec 7.1: LATEST never delivers what
was written before), so the engine forms the batches `run_simulation` predicts. Real-clock
scenarios use a fast retry backoff (the cadence is a [GAP], spec 1; outcomes do not depend on it);
virtual-clock scenarios run the engine on a VirtualClock with the default cadence, so 60 s of
record age pass in milliseconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import harness
from harness.deploy.template_reader import describe_template
from harness.esm import Backoff, EngineSettings, VirtualClock
from harness.judging import Observation, fidelity, judge, report_batch_item_failures
from harness.lint import lint_run, lint_synth
from harness.pipeline import LocalPipeline
from harness.project import default_source
from harness.scenarios import faults as scenario_faults
from harness.scenarios.model import Mutation, Scenario, ScenarioError
from harness.scenarios.notes import stack_notes
from harness.scenarios.observe import observe, subscribe_inboxes
from harness.scenarios.oracle import build_spec, predict
from harness.scenarios.scenario_run import ScenarioRun
from harness.scenarios.steps import run_steps
from harness.scenarios.target import Target, resolve_target
from harness.streams import StreamItemError, Write, writer_for
from harness.verdict import Check

FAST_BACKOFF = Backoff(initial_s=0.02, factor=2.0, max_s=0.1)
MAX_FUNCTION_LOG_LINES = 200
SETTLE_TIMEOUT_S = 60.0
AT_TIP_TIMEOUT_S = 30.0


def _engine_settings(scenario: Scenario) -> EngineSettings:
    return EngineSettings() if scenario.clock == "virtual" else EngineSettings(backoff=FAST_BACKOFF)


def _journal_dump(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out, logs = [], 0
    for e in entries:
        if e.get("kind") == "function_log":
            logs += 1
            if logs > MAX_FUNCTION_LOG_LINES:
                continue
        out.append(json.loads(json.dumps(e, default=str)))
    if logs > MAX_FUNCTION_LOG_LINES:
        out.append({"kind": "journal_note", "note": f"{logs - MAX_FUNCTION_LOG_LINES} function_log lines omitted"})
    return out


def run_scenario(scenario: Scenario, *, source: Any = None, backend: str = "embedded",
                 mutation: Mutation | None = None, settle_timeout: float = SETTLE_TIMEOUT_S,
                 esm: str = "harness") -> dict[str, Any]:
    """Deploy, write, settle, judge. Never raises for a scenario problem: verdict "error" says why."""
    return _run(scenario, source, backend, mutation, settle_timeout, esm)[0]


def _context(scenario: Scenario, mutation: Mutation | None, source: Any, backend: str) -> dict[str, object]:
    context = {**scenario.context, **(mutation.context if mutation else {})}
    if context and not getattr(source, "accepts_context", True):
        raise ScenarioError(f"{scenario.where()}: sets CDK context {sorted(context)}, but the stack source "
                            f"({source.label()}) is not a CDK app: only an app can be synthesized with context")
    if backend != "embedded" and getattr(source, "accepts_context", True) and "stackName" not in context:
        # A long-lived backend keeps earlier runs' resources: give each run its own stack.
        context["stackName"] = f"Scn-{scenario.name}-{uuid.uuid4().hex[:6]}"[:128]
    return context


def _run(scenario: Scenario, source: Any, backend: str, mutation: Mutation | None,
         settle_timeout: float, esm: str = "harness") -> tuple[dict[str, Any], dict[str, Any]]:
    """One scenario: plan -> deploy -> write -> settle -> observe -> predict -> judge; (result, backend info)."""
    began = time.perf_counter()
    clock = VirtualClock(start=time.time() - 3600) if scenario.clock == "virtual" else None
    settings = _engine_settings(scenario)
    result: dict[str, Any] = {
        "name": scenario.name, "title": scenario.title, "description": scenario.description,
        "spec_sections": list(scenario.spec_sections), "verdict": "error", "wall_s": 0.0, "checks": [],
        "expected": {"context": dict(scenario.context), "mutation": _mutation_dict(mutation)},
        "observed": {}, "conservation": {}, "journal": [], "error": None, "lint": [],
    }
    pipe = LocalPipeline(backend, clock=clock, esm_settings=settings, esm=esm)  # may refuse the wiring: no temp dir yet
    workdir = Path(tempfile.mkdtemp(prefix=f"scenario-{scenario.name}-"))
    backend_info: dict[str, Any] = {}
    try:
        source = source or default_source()
        context = _context(scenario, mutation, source, backend)
        result["expected"]["context"] = context
        plan = _plan(scenario, source, context)
        result["lint"] = plan.lint
        plan.writes = _prepare_writes(scenario, plan.writer)  # a bad item fails before any deploy
        with pipe:
            backend_info = _backend_info(pipe)
            run = _deploy(pipe, plan, mutation, workdir, clock)
            oracle_clock = _write(run, plan.writer, settle_timeout)
            _settle(run, settle_timeout)
            obs = _observe(run)
            predicted = predict(_oracle_spec(run, obs, settings, oracle_clock), run.stream)
            judgement = judge(run, obs, predicted)
            result.update(
                verdict=judgement.verdict, checks=[_check_dict(c) for c in judgement.checks],
                expected={**result["expected"], **_expected(run, obs, predicted, oracle_clock)},
                observed=obs.summary(), conservation=judgement.conservation)
            if judgement.verdict == "fail" and judgement.blame:
                result["blame"] = judgement.blame
            result["lint"] = result["lint"] + _run_lint(pipe.journal.entries(), obs.mapping, run.target)
    except Exception as exc:  # noqa: BLE001 - the verdict says what broke, the run goes on
        detail = "" if isinstance(exc, ScenarioError) else "\n" + traceback.format_exc(limit=8)
        result["error"] = f"{type(exc).__name__}: {exc}{detail}"
        result["verdict"] = "error"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result.update(stack_notes(pipe.journal.entries()))
    result["journal"] = _journal_dump(pipe.journal.entries())
    result["wall_s"] = round(time.perf_counter() - began, 3)
    return result, backend_info


@dataclass
class _Plan:
    """What a scenario will do, settled before anything is deployed: a bad item or context fails here."""

    scenario: Scenario
    synth: Any  # the synthesized stack
    pipeline: Any  # the pipeline description the scenario exercises
    writer: Any  # a harness.streams writer for its stream, not yet bound
    lint: list[dict[str, Any]]  # the stack's lint findings for this mapping
    writes: list[Write] = dataclasses.field(default_factory=list)
    fault_entries: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # functions resolved


def _plan(scenario: Scenario, source: Any, context: dict[str, object]) -> _Plan:
    synth = source.synthesize(context or None)
    desc = describe_template(synth.template, stack_name=synth.stack_name)
    pipeline = desc.pipeline(mapping=scenario.mapping, table=scenario.table)
    if pipeline.stream is None:
        raise ScenarioError(f"{scenario.where()}: mapping {pipeline.mapping.logical_id} reads a stream that is not "
                            "in this template; the harness writes only into streams it deploys")
    # A fault naming a function the stack does not have is refused here, before anything deploys.
    fault_entries = scenario_faults.resolve_functions(scenario, desc, pipeline) if scenario.faults else []
    lint = [dataclasses.asdict(f) for f in lint_synth(synth, desc) if f.mapping == pipeline.mapping.logical_id]
    writer = writer_for(pipeline.stream.kind)(key_schema=pipeline.stream.key_schema)
    return _Plan(scenario, synth, pipeline, writer, lint, fault_entries=fault_entries)


def _prepare_writes(scenario: Scenario, writer: Any) -> list[Write]:
    try:
        return writer.prepare(scenario.items, where=scenario.where())
    except StreamItemError as exc:  # the scenario file is at fault: reported as every scenario problem is
        raise ScenarioError(str(exc)) from None


def _backend_info(pipe: LocalPipeline) -> dict[str, Any]:
    info = pipe.backend.describe()
    return {"name": info.name, "endpoint_url": info.endpoint_url, "region": info.region,
            "account_id": info.account_id, "details": info.details}


def _deploy(pipe: LocalPipeline, plan: _Plan, mutation: Mutation | None, workdir: Path,
            clock: VirtualClock | None) -> ScenarioRun:
    """Deploy the stack (polling held), find the pipeline in it, subscribe the inboxes, run the prepare hooks."""
    stack = pipe.apply(plan.synth, start_polling=False)
    target = resolve_target(plan.pipeline, stack, pipe.esm)
    plan.writer.bind(pipe, target)
    run = ScenarioRun(plan.scenario, pipe, workdir, target, stack=stack, clock=clock, writes=plan.writes,
                      inboxes=subscribe_inboxes(pipe, target), fault_entries=plan.fault_entries)
    for hook in (plan.scenario.prepare, mutation.prepare if mutation else None):
        if hook is not None:
            hook(run)
    if plan.fault_entries:
        run.faults = scenario_faults.install(pipe, plan.fault_entries, stack, target.consumer, clock=clock)
    return run


def _settle(run: ScenarioRun, timeout: float) -> None:
    """Let the pipeline settle, then run the YAML steps and the `after` hook, settling after each."""
    pipe, scenario = run.pipe, run.scenario
    pipe.start_polling()
    _settle_once(run, timeout)
    if scenario.steps:
        run_steps(run, scenario.steps)
        _settle_once(run, timeout)
    if scenario.after:
        scenario.after(run)
        _settle_once(run, timeout)


def _settle_once(run: ScenarioRun, timeout: float) -> None:
    """A shard that never drains is nearly always a consumer failing on every delivery under
    unbounded retries (spec 1): the timeout says so, with the consumer's last error, instead of
    leaving a bare "still busy" to decode."""
    try:
        run.pipe.settle(timeout=timeout)
    except TimeoutError as exc:
        failed = [e for e in run.pipe.journal.entries("invoke_result") if e.get("function_error")
                  or e.get("outcome") not in ("success", "partial")]
        if not failed:
            raise
        last = failed[-1]
        why = last.get("reason") or last.get("error") or last.get("function_error") or last.get("outcome")
        hint = ("" if run.scenario.clock == "virtual" else
                "; under unbounded retries (MaximumRetryAttempts -1) a shard retries until its records leave the "
                "stream: `clock: virtual` plays that out in seconds")
        raise TimeoutError(f"{exc}: the consumer failed {len(failed)} invocation(s), the last with {why!r}{hint}") from None


def _expected(run: ScenarioRun, obs: Observation, predicted: dict[str, Any],
              oracle_clock: dict[str, float]) -> dict[str, Any]:
    """The result's `expected` block beyond the context: the oracle, the poison, the mapping as deployed."""
    scenario = run.scenario
    poison = run.judged_poison if run.judged_poison is not None else scenario.poison
    return {"oracle": predicted, "oracle_clock": oracle_clock, "poison": list(poison),
            **({"faults": run.fault_entries} if run.fault_entries else {}),
            "count": len(run.writes), "handler": scenario.handler_mode(report_batch_item_failures(obs.mapping)),
            "pipeline": _pipeline_dict(run.target),
            "mapping": {k: obs.mapping.get(k) for k in (
                "BatchSize", "MaximumRetryAttempts", "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds",
                "FunctionResponseTypes", "StartingPosition", "ParallelizationFactor")}}


def _oracle_spec(run: ScenarioRun, obs: Observation, settings: EngineSettings,
                 oracle_clock: dict[str, float]) -> dict[str, Any]:
    """The simulate spec for this run; with `faults:`, the consumer's faults and the destination
    outages (docs/faults.md) and the consumer's Timeout, so the oracle models them too."""
    spec = build_spec(run.scenario, obs.mapping, settings, run.stream, oracle_clock)
    if run.fault_entries:
        consumer = run.target.pipeline.consumer
        spec["faults"] = scenario_faults.oracle_faults(run.fault_entries, consumer.logical_id, run.stream)
        spec["handler"]["timeout_s"] = consumer.timeout_s
    return spec


def _observe(run: ScenarioRun) -> Observation:
    obs = observe(run.pipe, run.pipe.journal, run.target, run.stream, inboxes=run.inboxes)
    obs.extra.update(run.facts)
    return obs


def _run_lint(entries: Any, mapping: dict[str, Any], target: Target) -> list[dict[str, Any]]:
    """What the run showed of the lint rules (re-deliveries, ignored batchItemFailures), with counts."""
    return [dataclasses.asdict(f) for f in lint_run(entries, mapping, mapping_uuid=target.mapping_uuid,
                                                    mapping=target.pipeline.mapping.logical_id)]


def _write(run: ScenarioRun, writer: Any, timeout: float) -> dict[str, float]:
    """TRIM_HORIZON: write, then poll. LATEST: poll until at the tip, hold, write, release later.

    Returns the oracle's clock (when its first poll happens), read from the stream just written."""
    pipe = run.pipe
    latest = next((m.get("StartingPosition") for m in pipe.esm.list_event_source_mappings()
                   if m.get("UUID") == run.target.mapping_uuid), None) == "LATEST"
    if latest:
        pipe.start_polling()
        pipe.esm.wait_at_tip(run.target.mapping_uuid, timeout=min(timeout, AT_TIP_TIMEOUT_S))
        pipe.esm.hold()
        pipe.journal.record("scenario_note", note="StartingPosition LATEST: items written once the mapping read "
                                                  "at the tip of every shard (spec 7.1)")
    try:
        writer.write(run.writes)
        run.stream = writer.read_back(run.writes)
        if run.faults is not None:  # before a held mapping is released: `items` must be known
            scenario_faults.bind_stream(run.faults, run.stream)
    finally:
        if latest:
            pipe.esm.release()
    return _oracle_clock(run)


def _oracle_clock(run: ScenarioRun) -> dict[str, float]:
    """When the oracle's first poll happens: as the engine's, after every record arrived.

    The oracle replays the stream's own records with their arrival times (whole seconds for
    DynamoDB, spec 6) and makes each visible only from its arrival, so its clock starts at the
    earliest arrival and waits until the last one (writes can straddle a second). With a virtual
    clock the engine's 'now' is first moved to the last arrival, and the oracle waits as long.
    """
    if not run.stream:
        raise RuntimeError(f"scenario {run.scenario.name!r}: the stream is empty after the writes")
    first, last = min(s.arrival for s in run.stream), max(s.arrival for s in run.stream)
    if run.clock is None:
        return {"start": float(first), "start_delay_s": last - first}
    run.clock.advance_to(last)
    return {"start": float(first), "start_delay_s": run.clock.now() - first}


def _check_dict(c: Check) -> dict[str, Any]:
    return json.loads(json.dumps(c.as_dict(), default=str))


def _mutation_dict(mutation: Mutation | None) -> dict[str, Any] | None:
    if mutation is None:
        return None
    return {"name": mutation.name, "context": dict(mutation.context),
            "prepare": getattr(mutation.prepare, "__name__", None) if mutation.prepare else None}


def _pipeline_dict(target: Target) -> dict[str, Any]:
    p = target.pipeline
    return {"mapping": p.mapping.logical_id, "stream": p.stream.logical_id if p.stream else None,
            "stream_kind": target.kind, "consumer": p.consumer.logical_id,
            "destination": target.destination_arn, "failure_handlers": list(target.failure_handlers),
            "alert_channels": list(target.alert_topics + target.alert_queues)}


def prewarm_synth(scenarios: list[Scenario], source: Any = None, workers: int = 2) -> int:
    """Synthesize every distinct CDK context of the suite up front, two at a time.

    A cold synth runs node + jsii for ~8 s on one core; scenarios run one after another, so
    doing the cold ones in parallel first saves most of that on a fresh checkout. Errors are
    left for the scenario itself to report (with the scenario's name). Returns how many ran cold.
    """
    from concurrent.futures import ThreadPoolExecutor

    try:
        source = source or default_source()
    except Exception:  # noqa: BLE001 - each scenario reports it
        return 0
    if not getattr(source, "accepts_context", True):
        contexts: list[dict[str, object]] = [{}]
    else:
        contexts = []
        for sc in scenarios:
            if sc.context not in contexts:
                contexts.append(dict(sc.context))

    def one(ctx: dict[str, object]) -> bool:
        try:
            return not source.synthesize(ctx or None).cached
        except Exception:  # noqa: BLE001 - reported by the scenario that needs this context
            return False

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(one, contexts))


def run_suite(scenarios: list[Scenario], *, source: Any = None, backend: str = "embedded",
              progress: Callable[[Scenario, dict[str, Any] | None], None] | None = None,
              all_scenarios: list[Scenario] | None = None, esm: str = "harness") -> dict[str, Any]:
    """Run scenarios one after another; the full result JSON (schema in docs/scenarios.md)."""
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    began = time.perf_counter()
    prewarm_synth(scenarios, source)
    results = []
    backend_info: dict[str, Any] = {}
    for sc in scenarios:
        if progress:
            progress(sc, None)
        r, info = _run(sc, source, backend, None, SETTLE_TIMEOUT_S, esm)
        backend_info = backend_info or info
        results.append(r)
        if progress:
            progress(sc, r)
    label = backend if esm == "harness" else f"{backend} (esm {esm})"
    run = {"backend": label, "started": started, "wall_s": round(time.perf_counter() - began, 3),
           "harness_version": harness.__version__, "backend_info": backend_info}
    if source is not None and hasattr(source, "label"):
        run["source"] = source.label()
    return {"run": run, "scenarios": results, "fidelity": fidelity(all_scenarios or scenarios, results, label)}
