"""Run scenarios against a deployed pipeline and judge them; produce the result JSON.

Each scenario gets its own LocalPipeline (the embedded backend is one moto server per process and
start() resets it), deployed with `start_polling=False` so every record is in the stream before
the ESM polls: the engine then forms the same batches `run_simulation` predicts.
Real-clock scenarios use a fast retry backoff (retry cadence is a [GAP], spec 1; outcomes do not
depend on it); record-age scenarios run the engine on a VirtualClock with the default cadence, so
60 s of record age pass in milliseconds.
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
from harness.injector import orders
from harness.pipeline import PROJECT_ROOT, LocalPipeline
from harness.runtime import FunctionSpec
from harness.scenarios.audit import conservation, conservation_checks
from harness.scenarios.model import Mutation, Scenario
from harness.scenarios.observe import Observation, observe, subscribe_alert_inbox
from harness.scenarios.oracle import build_spec, compare, predict
from harness.verdict import Check, check

FAST_BACKOFF = Backoff(initial_s=0.02, factor=2.0, max_s=0.1)
WRAPPER_DIR = Path(__file__).resolve().parent / "wrappers"
CONSUMER_DIR = PROJECT_ROOT / "lambdas" / "stream_consumer"
MAX_FUNCTION_LOG_LINES = 200
SETTLE_TIMEOUT_S = 60.0
CONSERVATION_KEYS = ("injected", "processed", "filtered", "in_failure_records", "dropped", "lost", "lost_records")


@dataclass
class ScenarioRun:
    """A scenario while it runs: what hooks (prepare/after/checks) may use."""

    scenario: Scenario
    pipe: LocalPipeline
    workdir: Path
    clock: VirtualClock | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    wrapper: str | None = None

    @property
    def consumer(self) -> str:
        return self.pipe.output("ConsumerFunctionName")

    def deploy_wrapper(self, mode: str, env: dict[str, str] | None = None, timeout_s: float | None = None) -> None:
        """Replace the consumer's code with the scenario wrapper around a copy of the real consumer."""
        code = self.workdir / f"code-{mode}"
        if code.exists():
            shutil.rmtree(code)
        code.mkdir(parents=True)
        for src in list(CONSUMER_DIR.glob("*.py")) + [WRAPPER_DIR / "scenario_wrapper.py"]:
            shutil.copy2(src, code / src.name)
        specs = {s.name: s for s in self.pipe.runtime.functions()}
        if self.consumer not in specs:
            raise RuntimeError(f"consumer function {self.consumer!r} is not registered with the local runtime")
        spec: FunctionSpec = specs[self.consumer]
        environment = {**spec.environment, "SCENARIO_WRAPPER": mode, **(env or {})}
        if mode == "flaky":
            state = self.workdir / "flaky-state"
            state.mkdir(exist_ok=True)
            environment.setdefault("FLAKY_STATE_DIR", str(state))
        self.pipe.runtime.register(dataclasses.replace(
            spec, code_dir=code, handler="scenario_wrapper.handler", environment=environment,
            timeout_s=timeout_s if timeout_s is not None else spec.timeout_s))
        self.wrapper = mode
        self.pipe.journal.record("scenario_wrapper", function=self.consumer, mode=mode, env=env or {},
                                 timeout_s=timeout_s)


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


def generic_checks(obs: Observation) -> list[Check]:
    """What holds in every scenario: the judge can map every record, every object is a valid
    ESM failure record with AWS's key layout and a string payload."""
    checks = [check("every sequence number in the journal maps to an injected item (stream read back)", [],
                    obs.unmapped_sequences)]
    bad = [f"{o.key}: {o.error}" for o in obs.failure_objects if o.error]
    checks.append(check("every failure object is a valid ESM failure record", [], bad, spec="3.2"))
    uuid = obs.mapping.get("UUID", "?")
    wrong_key = [o.key for o in obs.failure_objects if not o.key.startswith(f"aws/lambda/{uuid}/")]
    checks.append(check("failure object keys use aws/lambda/<ESM UUID>/<shard>/...", [], wrong_key, spec="4"))
    not_str = [o.key for o in obs.failure_objects if not o.error and not o.payload_is_string]
    checks.append(check("failure object payload is a JSON string", [], not_str, spec="3.5"))
    unsorted = [o.key for o in obs.failure_objects if o.top_level_keys != sorted(o.top_level_keys)]
    checks.append(check("failure object keys are written alphabetically sorted, as AWS does", [], unsorted,
                        spec="3.2"))
    checks.extend(failure_handler_checks(obs))
    return checks


def failure_handler_checks(obs: Observation) -> list[Check]:
    """The second Lambda reacted to every failure object: one alert naming it, one archived copy.

    Read as a subscriber and an operator would: the alert topic (through an SQS inbox) and the
    bucket's archive prefix, never the handler's own return value.
    """
    valid = sorted((o.key, o.condition) for o in obs.failure_objects if not o.error)
    alerted = sorted(a.get("key") for a in obs.alerts if a.get("kind") in ("failure", "auto-replayed"))
    archived = sorted(k for k in obs.archive_keys if not k.startswith("archive/condition=malformed/"))
    expected_archive = sorted(f"archive/condition={cond}/" for _, cond in valid)
    return [
        check("failure handler alerted each failure object once, naming its key", [k for k, _ in valid], alerted),
        check("failure handler archived each failure object under archive/condition=<condition>/date=.../",
              expected_archive, sorted(k.split("date=")[0] for k in archived)),
    ]


def run_scenario(scenario: Scenario, *, backend: str = "embedded", mutation: Mutation | None = None,
                 settle_timeout: float = SETTLE_TIMEOUT_S, esm: str = "harness") -> dict[str, Any]:
    """Deploy, inject, settle, judge. Never raises for a scenario problem: verdict "error" says why."""
    return _run(scenario, backend, mutation, settle_timeout, esm)[0]


def _run(scenario: Scenario, backend: str, mutation: Mutation | None,
         settle_timeout: float, esm: str = "harness") -> tuple[dict[str, Any], dict[str, Any]]:
    began = time.perf_counter()
    context = {**scenario.context, **(mutation.context if mutation else {})}
    if backend != "embedded" and "stackName" not in context:
        # A long-lived backend keeps earlier runs' resources: give each run its own stack.
        context["stackName"] = f"Scn-{scenario.name}-{uuid.uuid4().hex[:6]}"[:128]
    clock = VirtualClock(start=time.time() - 3600) if scenario.clock == "virtual" else None
    settings = _engine_settings(scenario)
    result: dict[str, Any] = {
        "name": scenario.name, "title": scenario.title, "description": scenario.description,
        "spec_sections": list(scenario.spec_sections), "verdict": "error", "wall_s": 0.0, "checks": [],
        "expected": {"context": context, "mutation": dataclasses.asdict(mutation) if mutation else None},
        "observed": {}, "conservation": {}, "journal": [], "error": None,
    }
    pipe = LocalPipeline(backend, clock=clock, esm_settings=settings, esm=esm)  # may refuse the wiring: no temp dir yet
    workdir = Path(tempfile.mkdtemp(prefix=f"scenario-{scenario.name}-"))
    backend_info: dict[str, Any] = {}
    try:
        with pipe:
            info = pipe.backend.describe()
            backend_info = {"name": info.name, "endpoint_url": info.endpoint_url, "region": info.region,
                            "account_id": info.account_id, "details": info.details}
            pipe.deploy(context, start_polling=False)
            inbox = subscribe_alert_inbox(pipe)
            run = ScenarioRun(scenario, pipe, workdir, clock=clock)
            wrapper = (mutation.wrapper if mutation and mutation.wrapper else None) or scenario.wrapper
            if wrapper:
                run.deploy_wrapper(wrapper, scenario.wrapper_env, scenario.wrapper_timeout_s)
            if scenario.prepare:
                scenario.prepare(run)
            run.items = orders(scenario.count, scenario.poison, run=scenario.name.replace("_", "-")[:24])
            pipe.inject(run.items)
            oracle_clock = _align_virtual_clock(run) if clock is not None else None
            pipe.start_polling()
            pipe.settle(timeout=settle_timeout)
            if scenario.after:
                scenario.after(run)
                pipe.settle(timeout=settle_timeout)
            obs = observe(pipe, pipe.journal, alert_inbox_url=inbox)
            obs.extra.update(run.facts)
            predicted = predict(build_spec(scenario, obs.mapping, settings, oracle_clock))
            cons = conservation(obs)
            checks: list[Check] = []
            if scenario.checks:
                checks.extend(scenario.checks(obs, run))
            checks.extend(compare(scenario, predicted, obs))
            checks.extend(conservation_checks(cons))
            checks.extend(generic_checks(obs))
            result.update(
                verdict="pass" if all(c.passed for c in checks) else "fail",
                checks=[_check_dict(c) for c in checks],
                expected={**result["expected"], "oracle": predicted, "oracle_clock": oracle_clock, "poison": list(scenario.poison),
                          "count": scenario.count, "mapping": {k: obs.mapping.get(k) for k in (
                              "BatchSize", "MaximumRetryAttempts", "BisectBatchOnFunctionError",
                              "MaximumRecordAgeInSeconds", "FunctionResponseTypes")}},
                observed=obs.summary(), conservation={k: cons[k] for k in CONSERVATION_KEYS})
    except Exception as exc:  # noqa: BLE001 - the verdict says what broke, the run goes on
        result["error"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        result["verdict"] = "error"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["journal"] = _journal_dump(pipe.journal.entries())
    result["wall_s"] = round(time.perf_counter() - began, 3)
    return result, backend_info


def _align_virtual_clock(run: ScenarioRun) -> dict[str, float]:
    """Put the engine's virtual 'now' at the records' arrival and tell the oracle the offset.

    Arrival times come from the stream (whole seconds, spec 6); the oracle places every record
    at the first failing record's arrival, the one whose age decides the scenario.
    """
    from harness.scenarios.observe import read_stream

    assert run.clock is not None
    stream = read_stream(run.pipe)
    if not stream:
        raise RuntimeError(f"scenario {run.scenario.name!r}: the stream is empty after injection")
    run.clock.advance_to(max(s["arrival"] for s in stream))
    by_pk = {s["pk"]: s for s in stream}
    first_fail = min(run.scenario.oracle_fail if run.scenario.oracle_fail is not None else run.scenario.poison,
                     default=0)
    anchor = by_pk[run.items[first_fail]["pk"]]["arrival"]
    return {"start": float(anchor), "start_delay_s": run.clock.now() - anchor}


def _check_dict(c: Check) -> dict[str, Any]:
    return json.loads(json.dumps(c.as_dict(), default=str))


def prewarm_synth(scenarios: list[Scenario], workers: int = 2) -> int:
    """Synthesize every distinct CDK context of the suite up front, two at a time.

    A cold synth runs node + jsii for ~8 s on one core; scenarios run one after another, so
    doing the cold ones in parallel first saves most of that on a fresh checkout. Errors are
    left for the scenario itself to report (with the scenario's name). Returns how many ran cold.
    """
    from concurrent.futures import ThreadPoolExecutor

    from harness.deploy.synth import synthesize

    contexts: list[dict[str, object]] = []
    for sc in scenarios:
        if sc.context not in contexts:
            contexts.append(dict(sc.context))

    def one(ctx: dict[str, object]) -> bool:
        try:
            return not synthesize(ctx, project_root=PROJECT_ROOT).cached
        except Exception:  # noqa: BLE001 - reported by the scenario that needs this context
            return False

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(one, contexts))


def run_suite(scenarios: list[Scenario], *, backend: str = "embedded",
              progress: Callable[[Scenario, dict[str, Any] | None], None] | None = None,
              all_scenarios: list[Scenario] | None = None, esm: str = "harness") -> dict[str, Any]:
    """Run scenarios one after another; the full result JSON (schema in the scenarios brief)."""
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    began = time.perf_counter()
    prewarm_synth(scenarios)
    results = []
    backend_info: dict[str, Any] = {}
    for sc in scenarios:
        if progress:
            progress(sc, None)
        r, info = _run(sc, backend, None, SETTLE_TIMEOUT_S, esm)
        backend_info = backend_info or info
        results.append(r)
        if progress:
            progress(sc, r)
    label = backend if esm == "harness" else f"{backend} (esm {esm})"
    return {
        "run": {"backend": label, "started": started, "wall_s": round(time.perf_counter() - began, 3),
                "harness_version": harness.__version__, "backend_info": backend_info},
        "scenarios": results,
        "fidelity": fidelity(all_scenarios or scenarios, results, label),
    }


def fidelity(scenarios: list[Scenario], results: list[dict[str, Any]], backend: str) -> list[dict[str, Any]]:
    """One row per spec rule the scenarios exercise: does this backend's pipeline match AWS?"""
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
            status, reason = "diverges", "; ".join(parts)
        rows.append({"rule": rule, "spec": spec, "backend": backend, "status": status, "reason": reason})
    return rows
