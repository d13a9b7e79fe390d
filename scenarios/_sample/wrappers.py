"""Run the sample consumer behind `scenario_wrapper.py` for one scenario (prepare hooks).

Timeouts, crashes and odd partial responses (spec 1, 2.3) are behaviours of a *function*, not of
the data; the real consumer must stay unchanged, so a scenario deploys a copy of its code with
the wrapper module as the handler (see scenario_wrapper.py for the modes).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

CONSUMER_DIR = Path(__file__).resolve().parents[2] / "lambdas" / "stream_consumer"
WRAPPER = Path(__file__).resolve().parent / "scenario_wrapper.py"
MODES = ("timeout", "crash", "partial-malformed", "success-shapes", "swallow", "flaky", "fixed")


def deploy_wrapper(run: Any, mode: str, env: dict[str, str] | None = None, timeout_s: float | None = None) -> None:
    """Replace the scenario's consumer with the wrapper in `mode` around a copy of the real consumer."""
    if mode not in MODES:
        raise ValueError(f"wrapper mode {mode!r} is not one of {', '.join(MODES)}")
    code = run.workdir / f"code-{mode}"
    if code.exists():
        shutil.rmtree(code)
    code.mkdir(parents=True)
    for src in [*CONSUMER_DIR.glob("*.py"), WRAPPER]:
        shutil.copy2(src, code / src.name)
    environment = {"SCENARIO_WRAPPER": mode, **(env or {})}
    if mode == "flaky":
        state = run.workdir / "flaky-state"
        state.mkdir(exist_ok=True)
        environment.setdefault("FLAKY_STATE_DIR", str(state))
    run.replace_function_code(run.consumer, code, "scenario_wrapper.handler", environment=environment,
                              timeout_s=timeout_s)
    run.facts["wrapper"] = mode


def use_wrapper(mode: str, env: dict[str, str] | None = None,
                timeout_s: float | None = None) -> Callable[[Any], None]:
    """A prepare hook deploying the wrapper in `mode` (checked now, so a typo fails at load time)."""
    if mode not in MODES:
        raise ValueError(f"wrapper mode {mode!r} is not one of {', '.join(MODES)}")

    def prepare(run: Any) -> None:
        deploy_wrapper(run, mode, env, timeout_s)

    prepare.__name__ = f"wrapper_{mode.replace('-', '_')}"
    return prepare
