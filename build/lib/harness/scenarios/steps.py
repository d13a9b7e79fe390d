"""A YAML scenario's `after` steps: fix the consumer, then replay what failed, with no code of your own.

The most common story after a poison record is "fix the consumer, replay the failure records", and
a team must be able to prove it in a scenario file. Steps run in order once the pipeline settled:

    after:
      - environment: {function: OrdersConsumer, set: {ACCEPT_REFUNDS: "true"}}  # a fix by configuration
      - code: {function: OrdersConsumer, path: fixed/, handler: index.handler}  # a fix by code (path: beside the file)
      - replay: consumer                                                         # every failure record, into the consumer

`function` is a logical id of the template. Each replay step's summary is kept (`obs.extra["replay_steps"]`)
and judged: every failure record must have been replayed and succeeded, or be already replayed
(the ledger: a second replay is a no-op).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

STEP_KINDS = ("environment", "code", "replay")
REPLAY_TARGETS = ("consumer",)


def check_step(step: Any, where: str) -> None:
    """The shape of one step; ValueError naming the step and the field."""
    if not isinstance(step, Mapping) or len(step) != 1:
        raise ValueError(f"{where}: a step is an object with one of {', '.join(STEP_KINDS)}, got {step!r}")
    (kind, arg), = step.items()
    if kind not in STEP_KINDS:
        raise ValueError(f"{where}: {kind!r} is not a step (known: {', '.join(STEP_KINDS)})")
    if kind == "replay":
        target = arg.get("target") if isinstance(arg, Mapping) else arg
        if target not in REPLAY_TARGETS:
            raise ValueError(f"{where}.replay: target {target!r} is not one of {', '.join(REPLAY_TARGETS)}")
        return
    if not isinstance(arg, Mapping) or not isinstance(arg.get("function"), str) or not arg["function"]:
        raise ValueError(f"{where}.{kind}: needs 'function', the logical id of the function to change")
    if kind == "environment":
        values = arg.get("set")
        if not isinstance(values, Mapping) or not values or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in values.items()):
            raise ValueError(f"{where}.environment: 'set' must map variable names to strings")
        extra = set(arg) - {"function", "set"}
    else:
        if not isinstance(arg.get("path"), str) or not isinstance(arg.get("handler"), str):
            raise ValueError(f"{where}.code: needs 'path' (a folder beside the scenario file) and 'handler'")
        extra = set(arg) - {"function", "path", "handler"}
    if extra:
        raise ValueError(f"{where}.{kind}: field {sorted(extra)[0]!r} is not allowed")


def _function_name(run: Any, name: str) -> str:
    """The deployed name of the function `name` names (its logical id, or its CDK construct id)."""
    from harness.deploy.pipelines import names_logical_id

    functions = run.stack.functions
    found = [lid for lid in functions if names_logical_id(name, lid)]
    if len(found) != 1:
        why = "names no function" if not found else f"names several functions ({', '.join(found)})"
        raise RuntimeError(f"step function {name!r} {why} of the stack (functions: {', '.join(sorted(functions))})")
    return functions[found[0]]


def _environment(run: Any, arg: Mapping[str, Any]) -> None:
    spec = next(s for s in run.pipe.runtime.functions() if s.name == _function_name(run, arg["function"]))
    run.replace_function_code(spec.name, spec.code_dir, spec.handler, environment=dict(arg["set"]))


def _code(run: Any, arg: Mapping[str, Any]) -> None:
    base = Path(run.scenario.source_file).parent if run.scenario.source_file else Path.cwd()
    folder = (base / arg["path"]).resolve()
    if not folder.is_dir():
        raise RuntimeError(f"code step: {folder} is not a folder (path {arg['path']!r} is relative to the scenario file)")
    run.replace_function_code(_function_name(run, arg["function"]), folder, arg["handler"])


def _replay(run: Any, arg: Any) -> None:
    from harness.failures import FailureStore
    from harness.replay import ConsumerTarget, Replayer

    if run.target.bucket is None:
        raise RuntimeError("replay step: the pipeline's on-failure destination is not an S3 bucket; only S3 "
                           "failure records carry the records to replay (spec 3.4)")
    store = FailureStore(run.pipe.backend.client("s3"), run.target.bucket)
    target = ConsumerTarget(run.pipe.runtime, run.target.consumer)
    summary = Replayer(store, target, execute=True, journal=run.pipe.journal).run()
    run.facts.setdefault("replay_steps", []).append(summary.as_dict())


STEPS: dict[str, Callable[[Any, Any], None]] = {"environment": _environment, "code": _code, "replay": _replay}


def run_steps(run: Any, steps: tuple[Mapping[str, Any], ...]) -> None:
    for step in steps:
        (kind, arg), = step.items()
        run.pipe.journal.record("scenario_step", step=kind, arg=arg)
        STEPS[kind](run, arg)
