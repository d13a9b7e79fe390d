"""`shardproof up` and `shardproof deploy`: a long-running local cloud and a client that deploys into it.

The stack's Lambda code and the ESM engine run inside the `up` process, so `shardproof deploy`
(another process) cannot deploy by itself: it asks the running `up` over a loopback control
port, whose address `up` writes to `.harness/up.json`. That file also tells `shardproof failures`
and `shardproof replay` where the backend is and, once a stack is deployed, its failure buckets;
`read_up_state` is its one reader.
"""

from __future__ import annotations

import json
import signal
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.pipeline import LocalPipeline, failure_destinations
from harness.state_folders import SYNTH_CACHE, up_state_file

STATE_FILE: Path | None = None  # set to pin up.json somewhere (tests); None: the project's (default_state_file)
_STRING_FIELDS = ("endpoint_url", "control_url", "lambda_endpoint_url", "region", "journal")


class UpNotRunning(RuntimeError):
    pass


class UpStateError(UpNotRunning):
    """up.json exists but is not what `shardproof up` writes (corrupt, unreadable, wrong shape)."""


def default_state_file() -> Path:
    """Where `up` says how to reach it: `.harness/up.json` in the current project (the folder of its
    shardproof.toml / [tool.shardproof]), so `shardproof failures` run in that project finds its `up`."""
    from harness.project import ProjectError, load_project

    if STATE_FILE is not None:
        return STATE_FILE
    try:
        root = load_project().root
    except (ProjectError, OSError):
        root = Path.cwd()
    return up_state_file(root)


def read_up_state(state_file: Path | None = None) -> dict[str, Any] | None:
    """The running `shardproof up`'s state, or None when no `up` runs (no file).

    A file that exists but cannot be read as `up` writes it raises UpStateError naming the file,
    never None: a caller that falls back to AWS on None would send a command meant for the local
    stack to a real account. `failure_buckets` (a list of names) is present once `up` has
    deployed a stack.
    """
    state_file = state_file or default_state_file()
    try:
        text = state_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UpStateError(f"{state_file} cannot be read ({exc.strerror or exc}); "
                           "restart `shardproof up` to rewrite it") from None
    try:
        state = json.loads(text)
    except ValueError as exc:
        raise UpStateError(f"{state_file} is not JSON ({exc}); restart `shardproof up` to rewrite it") from None
    if not isinstance(state, dict):
        raise UpStateError(f"{state_file} is not a `shardproof up` state (a JSON object), it holds a "
                           f"{type(state).__name__}; restart `shardproof up` to rewrite it")
    for name in _STRING_FIELDS:
        if name in state and not isinstance(state[name], str):
            raise UpStateError(f"{state_file}: {name} must be a string, got {type(state[name]).__name__}; "
                               "restart `shardproof up` to rewrite it")
    buckets = state.get("failure_buckets", [])
    if not isinstance(buckets, list) or not all(isinstance(b, str) for b in buckets):
        raise UpStateError(f"{state_file}: failure_buckets must be a list of bucket names; "
                           "restart `shardproof up` to rewrite it")
    return state


def failure_buckets(stack: Any, esm: Any) -> list[str]:
    """The S3 on-failure destinations of `stack`'s event source mappings, sorted, each once.

    Read from the ESM (the mappings as created, their destinations resolved) and limited to the
    stack's own mapping UUIDs; SQS and SNS destinations are not buckets and are left out.
    """
    uuids = set(stack.mappings.values())
    buckets: set[str] = set()
    for mapping in esm.list_event_source_mappings():
        if mapping.get("UUID") not in uuids:
            continue
        arn = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination") or ""
        parts = arn.split(":", 5)  # arn:<partition>:s3:::<bucket>
        if len(parts) == 6 and parts[0] == "arn" and parts[2] == "s3" and parts[5]:
            buckets.add(parts[5])
    return sorted(buckets)


def _write_state(state_file: Path, state: dict[str, Any]) -> None:
    """Replace up.json whole: it is rewritten while others may read it, and must never be half there."""
    tmp = state_file.with_name(state_file.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(state_file)


def serve(*, context: dict[str, object], deploy: bool, port: int, console: Console,
          state_file: Path | None = None, stop_event: threading.Event | None = None, source: Any = None) -> int:
    """Run the embedded backend, the runtime and the ESM until stopped; deploy `source` (default:
    the project's stack) with `--deploy` or when `shardproof deploy` asks, which may name another."""
    from harness.backends.embedded import EmbeddedBackend

    state_file = state_file or default_state_file()
    stop = stop_event or threading.Event()
    journal_path = state_file.parent / "up-journal.jsonl"
    with LocalPipeline(EmbeddedBackend(port=port), journal_path=journal_path, progress=console.log) as pipe:
        lock = threading.Lock()
        state: dict[str, Any] = {}

        def do_deploy(ctx: dict[str, object], spec: dict[str, Any] | None = None) -> dict[str, Any]:
            with lock:
                if pipe.stack is not None:
                    raise RuntimeError("a stack is already deployed in this `shardproof up`; restart it to deploy again")
                stack = pipe.deploy(ctx or None, source=_deploy_source(spec, source))
                state["failure_buckets"] = failure_buckets(stack, pipe.esm)
                state["failure_destinations"] = failure_destinations(stack, pipe.esm)
                _write_state(state_file, state)  # `shardproof failures` takes its default bucket from here
                return dict(stack.outputs)

        live = LiveFaults(pipe)
        control = ThreadingHTTPServer(("127.0.0.1", 0), _handler(do_deploy, live))
        threading.Thread(target=control.serve_forever, daemon=True).start()
        # Everything from here on may fail (a bad --context makes the first deploy raise): the
        # control port and up.json must go with it, or `shardproof deploy` would find a dead `up`.
        try:
            state_file.parent.mkdir(parents=True, exist_ok=True)
            state.update({"endpoint_url": pipe.backend.endpoint_url,
                          "control_url": f"http://127.0.0.1:{control.server_port}",
                          "lambda_endpoint_url": pipe.lambda_api.endpoint_url,
                          "region": pipe.backend.region, "journal": str(journal_path)})
            _write_state(state_file, state)
            console.print(f"[bold]embedded backend up[/] at {pipe.backend.endpoint_url}  (region {pipe.backend.region})")
            console.print(f"  try: aws --endpoint-url {pipe.backend.endpoint_url} dynamodb list-tables")
            console.print(f"  Lambda Invoke API (local runtime): {pipe.lambda_api.endpoint_url}")
            console.print(f"  deploy from another shell: shardproof deploy    journal: {journal_path}")
            if deploy:
                outputs = do_deploy(context)
                console.print_json(json.dumps(outputs))
            if stop_event is None:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(sig, lambda *_: stop.set())
            console.print("press Ctrl-C to stop")
            stop.wait()
        finally:
            control.shutdown()
            control.server_close()
            state_file.unlink(missing_ok=True)
    return 0


class LiveFaults:
    """`shardproof faults add/list/clear` against this `up`: faults injected into the deployed
    stack while it runs (harness.faults), so a team can watch one play out by hand.

    A fault's `function` names a function of the deployed stack by logical id, CDK construct id or
    function name; without one, the consumer of the stack's only event source mapping. `items`
    names a scenario's items, which an `up` has none of: use `match` (a Lambda filter pattern)."""

    def __init__(self, pipe: LocalPipeline) -> None:
        self.pipe = pipe
        self._injector: Any = None
        self._lock = threading.Lock()

    def _ready(self) -> Any:
        from harness.faults import FaultInjector

        if self.pipe.stack is None:
            raise RuntimeError("no stack is deployed in this `shardproof up` yet: run `shardproof deploy` first")
        if self._injector is None:
            consumers = sorted({m.get("FunctionName") for m in self.pipe.esm.list_event_source_mappings()
                                if m.get("UUID") in set(self.pipe.stack.mappings.values())})
            self._injector = FaultInjector(journal=self.pipe.journal, now=self.pipe.esm.clock.now if hasattr(
                self.pipe.esm, "clock") else _wall, consumer=consumers[0] if len(consumers) == 1 else None,
                resolve=self._resolve)
            self._injector.install(self.pipe.runtime, self.pipe.esm)
        return self._injector

    def _resolve(self, name: str) -> str:
        from harness.deploy.stack_model import names_logical_id
        from harness.faults import FaultTargetError

        functions: dict[str, str] = dict(self.pipe.stack.functions)
        arn_name = name.rsplit(":function:", 1)[-1].split(":")[0]
        found = sorted({fn for lid, fn in functions.items() if names_logical_id(name, lid) or fn == arn_name})
        if len(found) != 1:
            known = ", ".join(f"{lid} ({fn})" for lid, fn in sorted(functions.items()))
            why = "names no function" if not found else f"names several functions ({', '.join(found)})"
            raise FaultTargetError(f"{name!r} {why} of the deployed stack; its functions: {known or '(none)'}")
        return found[0]

    def add(self, entries: Any) -> list[dict[str, Any]]:
        if isinstance(entries, list):
            for i, e in enumerate(entries):
                if isinstance(e, dict) and "items" in e:
                    raise ValueError(f"faults[{i}]: field 'items' names a scenario's items; a running `up` has "
                                     "none: select records with `match` (a Lambda filter pattern)")
        with self._lock:
            return self._ready().add(entries, where="faults")

    def listed(self) -> list[dict[str, Any]]:
        with self._lock:
            return [] if self._injector is None else self._injector.listed()

    def clear(self) -> int:
        with self._lock:
            return 0 if self._injector is None else self._injector.clear()


def _wall() -> float:
    import time

    return time.time()


def _handler(do_deploy: Any, live: LiveFaults | None = None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path == "/faults" and live is not None:
                self._reply(200, {"faults": live.listed()})
                return
            self._reply(404, {"error": f"no route {self.path}"})

        def do_DELETE(self) -> None:  # noqa: N802
            if self.path == "/faults" and live is not None:
                self._reply(200, {"cleared": live.clear()})
                return
            self._reply(404, {"error": f"no route {self.path}"})

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path == "/faults" and live is not None:
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    body = json.loads(self.rfile.read(length) or b"{}")
                    entries = body.get("faults") if isinstance(body, dict) else None
                    self._reply(200, {"added": live.add(entries)})
                except Exception as exc:  # the client prints it; the daemon keeps running
                    self._reply(400, {"error": f"{type(exc).__name__}: {exc}"})
                return
            if self.path != "/deploy":
                self._reply(404, {"error": f"no route {self.path}"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise ValueError(f"the deploy request must be a JSON object, got {type(body).__name__}")
                ctx, spec = body.get("context", {}), body.get("source")
                if not isinstance(ctx, dict):
                    raise ValueError(f"the deploy context must be a JSON object, got {type(ctx).__name__}")
                self._reply(200, {"outputs": do_deploy(ctx, spec)})
            except Exception as exc:  # the client prints it; the daemon keeps running
                self._reply(500, {"error": f"{type(exc).__name__}: {exc}"})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _deploy_source(spec: dict[str, Any] | None, default: Any) -> Any:
    """The stack source a deploy request names ({kind, path, stack}), else `up`'s own, else the project's."""
    from harness.deploy.sources import SOURCE_KINDS, SourceError, SourceSpec, open_source
    from harness.project import default_source

    if spec is None:
        return default or default_source()
    if not isinstance(spec, dict) or spec.get("kind") not in SOURCE_KINDS or not isinstance(spec.get("path"), str):
        raise SourceError(f"the deploy request's source must be {{kind: {'|'.join(SOURCE_KINDS)}, path, stack}}, "
                          f"got {spec!r}")
    return open_source(SourceSpec(spec["kind"], Path(spec["path"]), spec.get("stack")),
                       cache_dir=default_state_file().with_name(SYNTH_CACHE))  # the state folder up.json is in


def request_deploy(context: dict[str, object], *, source: Any = None, state_file: Path | None = None,
                   timeout: float = 300) -> dict[str, str]:
    """Ask the running `up` to deploy; `source` (a SourceSpec) names another stack than `up`'s own."""
    body: dict[str, Any] = {"context": context}
    if source is not None:
        body["source"] = {"kind": source.kind, "path": str(Path(source.path).resolve()), "stack": source.stack}
    answer, url, state_file = _control_request("POST", "/deploy", body, state_file=state_file, timeout=timeout)
    if not isinstance(answer.get("outputs"), dict):
        # up.json outlived its `up` (killed) and something else now listens on that port.
        raise UpNotRunning(f"{url} did not answer like `shardproof up` (no outputs); "
                           f"is {state_file} stale? restart `shardproof up`")
    return answer["outputs"]


def request_faults(method: str, entries: list[Any] | None = None, *, state_file: Path | None = None,
                   timeout: float = 30) -> dict[str, Any]:
    """`faults add` (POST), `faults list` (GET), `faults clear` (DELETE) against the running `up`."""
    body = {"faults": entries} if method == "POST" else None
    return _control_request(method, "/faults", body, state_file=state_file, timeout=timeout)[0]


def _control_request(method: str, path: str, body: dict[str, Any] | None, *, state_file: Path | None,
                     timeout: float) -> tuple[dict[str, Any], str, Path]:
    """One request to the running `up`'s control endpoint: (answer, control URL, state file). Each
    way of not reaching it (no up.json, an old one, a dead or foreign port) has its own error."""
    state_file = state_file or default_state_file()
    state = read_up_state(state_file)
    if state is None:
        raise UpNotRunning(f"no `shardproof up` is running (no {state_file}): start one in another shell")
    if "control_url" not in state:
        raise UpStateError(f"{state_file} has no control_url; restart `shardproof up` to rewrite it")
    url = state["control_url"]
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return _json_object(resp.read()), url, state_file
    except urllib.error.HTTPError as exc:
        raise RuntimeError(_json_object(exc.read()).get("error") or f"`shardproof up` at {url} "
                           f"answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise UpNotRunning(f"`shardproof up` at {url} did not answer ({exc.reason}); is it still running?") from None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
