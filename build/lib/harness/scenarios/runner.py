"""Run scenarios against a team's deployed stack and judge them; produce the result JSON.

For each scenario: synthesize the stack source (with the scenario's CDK context), find the
pipeline it exercises in the template (harness/deploy/pipelines.py), check its items against the
stream (key schema...), deploy to a fresh backend, write the items, let the pipeline settle, and
judge what happened from the backend and the journal against the defaults every scenario gets
(harness/scenarios/judge.py), its `expect` block, its own checks, and the oracle: `harness
simulate` over the same records with the mapping as deployed and the declared consumer behaviour.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import harness
from harness.esm import Backoff, EngineSettings, VirtualClock
from harness.pipeline import LocalPipeline
from harness.scenarios import judge
from harness.scenarios.audit import conservation, conservation_checks
from harness.scenarios.expectations import check_expect, explicit_checks
from harness.scenarios.model import Mutation, Scenario, ScenarioError
from harness.scenarios.notes import stack_notes
from harness.scenarios.steps import run_steps
from harness.scenarios.observe import Inboxes, Observation, observe, subscribe_inboxes
from harness.scenarios.oracle import build_spec, compare, predict, report_batch_item_failures
from harness.scenarios.streams import StreamRecord, Write, writer_for
from harness.scenarios.target import Target, resolve_target
from harness.verdict import Check

FAST_BACKOFF = Backoff(initial_s=0.02, factor=2.0, max_s=0.1)
MAX_FUNCTION_LOG_LINES = 200
SETTLE_TIMEOUT_S = 60.0
AT_TIP_TIMEOUT_S = 30.0
CONSERVATION_KEYS = ("injected", "processed", "filtered", "in_failure_records", "dropped", "lost", "lost_records")


@dataclass
class ScenarioRun:
    """A scenario while it runs: what hooks (prepare/after/checks) may use."""

    scenario: Scenario
    pipe: LocalPipeline
    workdir: Path
    target: Target
    stack: Any = None  # the DeployedStack: logical id -> what was created
    clock: VirtualClock | None = None
    writes: list[Write] = field(default_factory=list)
    stream: list[StreamRecord] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def consumer(self) -> str:
        """The function name the scenario's mapping invokes."""
        return self.target.consumer

    @property
    def items(self) -> list[dict[str, Any]]:
        return [dict(i) for i in self.scenario.items]

    def replace_function_code(self, function: str, code_dir: Path, handler: str, *,
                              environment: dict[str, str] | None = None, timeout_s: float | None = None) -> None:
        """Run `function` from other code (a wrapper around the real consumer, a fixed version...)."""
        replace_function_code(self.pipe, function, code_dir, handler, environment=environment, timeout_s=timeout_s)


def replace_function_code(pipe: LocalPipeline, function: str, code_dir: Path, handler: str, *,
                          environment: dict[str, str] | None = None, timeout_s: float | None = None) -> None:
    """Re-register a deployed function with other code on the local runtime (journaled)."""
    specs = {s.name: s for s in pipe.runtime.functions()}
    if function not in specs:
        raise RuntimeError(f"function {function!r} is not registered with the local runtime; "
                           f"registered: {', '.join(sorted(specs))}")
    spec = specs[function]
    pipe.runtime.register(dataclasses.replace(
        spec, code_dir=code_dir, handler=handler, environment={**spec.environment, **(environment or {})},
        timeout_s=timeout_s if timeout_s is not None else spec.timeout_s))
    pipe.journal.record("scenario_code", function=function, code_dir=str(code_dir), handler=handler,
                        env=environment or {}, timeout_s=timeout_s)


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


def default_source() -> Any:
    """The project's stack source (shardproof.toml / [tool.shardproof], else the sample's infra/)."""
    from harness.deploy.sources import open_source
    from harness.project import load_project

    project = load_project()
    return open_source(project.source, cache_dir=project.root / ".harness" / "synth")


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
    from harness.deploy.pipelines import describe_template

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
        synth = source.synthesize(context or None)
        desc = describe_template(synth.template, stack_name=synth.stack_name)
        pipeline = desc.pipeline(mapping=scenario.mapping, table=scenario.table)
        if pipeline.stream is None:
            raise ScenarioError(f"{scenario.where()}: mapping {pipeline.mapping.logical_id} reads a stream that is not "
                                "in this template; the harness writes only into streams it deploys")
        result["lint"] = _static_lint(synth, desc, pipeline)
        writer = writer_for(pipeline.stream.kind)(key_schema=pipeline.stream.key_schema)
        writes = writer.prepare(scenario.items, where=scenario.where())  # a bad item fails before any deploy
        with pipe:
            info = pipe.backend.describe()
            backend_info = {"name": info.name, "endpoint_url": info.endpoint_url, "region": info.region,
                            "account_id": info.account_id, "details": info.details}
            stack = pipe.apply(synth, start_polling=False)
            target = resolve_target(pipeline, stack, pipe.esm)
            writer.bind(pipe, target)
            inboxes = subscribe_inboxes(pipe, target)
            run = ScenarioRun(scenario, pipe, workdir, target, stack=stack, clock=clock, writes=writes)
            for hook in (scenario.prepare, mutation.prepare if mutation else None):
                if hook is not None:
                    hook(run)
            _write(run, writer, settle_timeout)
            oracle_clock = _oracle_clock(run)
            pipe.start_polling()
            pipe.settle(timeout=settle_timeout)
            if scenario.steps:
                run_steps(run, scenario.steps)
                pipe.settle(timeout=settle_timeout)
            if scenario.after:
                scenario.after(run)
                pipe.settle(timeout=settle_timeout)
            obs = observe(pipe, pipe.journal, target, run.stream, inboxes=inboxes)
            obs.extra.update(run.facts)
            predicted = predict(build_spec(scenario, obs.mapping, settings, run.stream, oracle_clock), run.stream)
            checks, blame = _judge(run, obs, predicted)
            cons = conservation(obs)
            checks.extend(conservation_checks(cons))
            verdict = "pass" if all(c.passed for c in checks) else "fail"
            result.update(
                verdict=verdict, checks=[_check_dict(c) for c in checks],
                expected={**result["expected"], "oracle": predicted, "oracle_clock": oracle_clock,
                          "poison": list(scenario.poison), "count": len(writes),
                          "handler": scenario.handler_mode(report_batch_item_failures(obs.mapping)),
                          "pipeline": _pipeline_dict(target),
                          "mapping": {k: obs.mapping.get(k) for k in (
                              "BatchSize", "MaximumRetryAttempts", "BisectBatchOnFunctionError",
                              "MaximumRecordAgeInSeconds", "FunctionResponseTypes", "StartingPosition",
                              "ParallelizationFactor")}},
                observed=obs.summary(), conservation={k: cons[k] for k in CONSERVATION_KEYS})
            if verdict == "fail" and blame:
                result["blame"] = blame
            result["lint"] = result["lint"] + _run_lint(pipe.journal.entries(), obs.mapping, target)
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


def _static_lint(synth: Any, desc: Any, pipeline: Any) -> list[dict[str, Any]]:
    """The stack's lint findings for this scenario's mapping (harness lint), as the result records them."""
    from harness.deploy.cli import function_code_dirs
    from harness.lint import lint_stack

    findings = lint_stack(desc, synth.template, code_dirs=function_code_dirs(desc, synth.assembly_dir))
    return [dataclasses.asdict(f) for f in findings if f.mapping == pipeline.mapping.logical_id]


def _run_lint(entries: Any, mapping: dict[str, Any], target: Target) -> list[dict[str, Any]]:
    """What the run showed of the lint rules (re-deliveries, ignored batchItemFailures), with counts."""
    from harness.lint import lint_run

    return [dataclasses.asdict(f) for f in lint_run(entries, mapping, mapping_uuid=target.mapping_uuid,
                                                    mapping=target.pipeline.mapping.logical_id)]


def _write(run: ScenarioRun, writer: Any, timeout: float) -> None:
    """TRIM_HORIZON: write, then poll. LATEST: poll until at the tip, hold, write, release later."""
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
    finally:
        if latest:
            pipe.esm.release()


def _judge(run: ScenarioRun, obs: Observation, predicted: dict[str, Any]) -> tuple[list[Check], str | None]:
    """Every check of the scenario, and who is to blame when it fails ("consumer" or None)."""
    scenario, target = run.scenario, run.target
    expect = check_expect(scenario.expect, poison=scenario.poison, count=scenario.count)
    handler = judge.handler_checks(scenario, obs)
    checks: list[Check] = [*judge.stream_checks(obs), *handler]
    checks.extend(judge.poison_checks(scenario, obs, expect))
    checks.extend(judge.isolation_checks(scenario, obs, predicted, expect))
    checks.extend(judge.envelope_checks(obs, target.mapping_uuid))
    checks.extend(judge.order_checks(obs, expect))
    checks.extend(judge.failure_handler_checks(obs, target.failure_handlers, expect))
    checks.extend(judge.alert_checks(obs, target.alert_topics + target.alert_queues, expect))
    checks.extend(judge.replay_checks(obs, expect))
    checks.extend(explicit_checks(expect, obs))
    if expect.get("oracle") is not False:
        checks.extend(compare(scenario, predicted, obs))
    if scenario.checks:
        checks.extend(scenario.checks(obs, run))
    blame = "consumer" if any(not c.passed for c in handler) else None
    return checks, blame


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


def fidelity(scenarios: list[Scenario], results: list[dict[str, Any]], backend: str) -> list[dict[str, Any]]:
    """One row per spec rule the scenarios exercise: does this backend's pipeline match AWS?

    A scenario that failed because its consumer did not behave as declared says nothing about the
    harness's fidelity to AWS: its rules read "consumer differs from its declaration", not "diverges".
    """
    by_name = {r["name"]: r for r in results}
    rules: dict[tuple[str, str], list[Scenario]] = {}
    for sc in scenarios:
        for rule in sc.rules:
            rules.setdefault(rule, []).append(sc)
    rows = []
    for (rule, spec), owners in rules.items():
        ran = [by_name[s.name] for s in owners if s.name in by_name]
        if not ran:
            status, reason = "not-run", f"scenario(s) {', '.join(s.name for s in owners)} not selected"
        elif all(r["verdict"] == "pass" for r in ran):
            status, reason = "matches", f"passed: {', '.join(r['name'] for r in ran)}"
        else:
            bad = [r for r in ran if r["verdict"] != "pass"]
            parts = []
            for r in bad:
                failing = [c["name"] for c in r["checks"] if not c["passed"]]
                parts.append(f"{r['name']} ({r['verdict']}: {r['error'] or '; '.join(failing[:3])})")
            blamed = all(r.get("blame") == "consumer" for r in bad)
            status = "consumer-differs" if blamed else "diverges"
            reason = "; ".join(parts)
        rows.append({"rule": rule, "spec": spec, "backend": backend, "status": status, "reason": reason})
    return rows
