"""Error documents the runtime writes itself, shaped like the ones AWS Lambda returns.

The function's own exceptions and init errors come from awslambdaric unchanged; only the
failures the *platform* detects (timeout, process exit, init hang) are built here.
Spec section 1: "A function error includes an unhandled exception or a timeout", so all of
these are reported with function_error "Unhandled".
"""

from __future__ import annotations

import json
import signal
import time

# Go's names for signals: Lambda's platform is Go and prints exec.ExitError text verbatim.
_GO_SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGINT: "interrupt",
    signal.SIGHUP: "hangup",
    signal.SIGPIPE: "broken pipe",
}


def iso_timestamp(epoch_s: float | None = None) -> str:
    """Lambda's log timestamp: 2024-01-31T12:34:56.789Z."""
    now = time.time() if epoch_s is None else epoch_s
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def _doc(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def timeout_message(request_id: str, timeout_s: float, epoch_s: float | None = None) -> str:
    return f"{iso_timestamp(epoch_s)} {request_id} Task timed out after {timeout_s:.2f} seconds"


def timeout_error(request_id: str, timeout_s: float, epoch_s: float | None = None) -> bytes:
    """The payload of an invoke that ran past the function's timeout."""
    return _doc("Sandbox.Timedout", timeout_message(request_id, timeout_s, epoch_s))


def exit_reason(returncode: int) -> str:
    """`exit status 1` / `signal: segmentation fault`, as Go's os/exec words it."""
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
        except ValueError:
            return f"signal: signal {-returncode}"
        return "signal: " + _GO_SIGNAL_NAMES.get(sig, sig.name.lower())
    return f"exit status {returncode}"


def exit_error(request_id: str, returncode: int) -> bytes:
    """The payload when the runtime process died during an invoke (os._exit, segfault, OOM kill)."""
    if returncode == 0:
        return _doc("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited without providing a reason")
    return _doc("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited with error: {exit_reason(returncode)}")


def init_timeout_error(request_id: str, init_timeout_s: float) -> bytes:
    """The payload when the handler module never finished importing (Lambda's init phase limit)."""
    return _doc(
        "Sandbox.Timedout",
        f"{iso_timestamp()} {request_id} Task timed out after {init_timeout_s:.2f} seconds (init phase)",
    )


def error_type_of(payload: bytes) -> str | None:
    """The errorType of an error document, or None if the payload is not one."""
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    value = doc.get("errorType") if isinstance(doc, dict) else None
    return value if isinstance(value, str) else None
