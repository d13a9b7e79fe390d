"""Tools to break things on purpose: a TCP proxy that can cut the network to the backend, and
journal helpers that the fault tests share.

Why a proxy rather than stopping moto: moto keeps its state in process globals and the
embedded backend resets it on start, so a stopped-and-restarted server would either lose the
stream or need internals. A proxy in front of the port is what an outage looks like from the
engine's side (connections reset, then refused) and leaves the data where it was.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any
from urllib.parse import urlparse


class PausableProxy:
    """Forwards 127.0.0.1:<port> to a target; `pause()` resets every open connection and closes
    new ones at once (the client sees a connection reset), `resume()` forwards again."""

    def __init__(self, target_url: str) -> None:
        parsed = urlparse(target_url)
        self._target = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._paused = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.refused = 0  # connections cut while paused: evidence the outage was felt
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    # -- control ---------------------------------------------------------------------------------
    def pause(self) -> None:
        self._paused.set()
        with self._lock:
            for s in list(self._open):
                _hard_close(s)
            self._open.clear()

    def resume(self) -> None:
        self._paused.clear()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def close(self) -> None:
        self._closed.set()
        self.pause()
        self._sock.close()

    # -- plumbing --------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            if self._paused.is_set():
                self.refused += 1
                _hard_close(client)
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _hard_close(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(src)
                self._open.discard(dst)
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass


def _hard_close(s: socket.socket) -> None:
    """RST rather than FIN, so a pooled keep-alive connection fails now, not on its next read."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


def wait_until(predicate: Any, *, timeout: float, what: str, interval: float = 0.02) -> Any:
    """A deadline, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def audit(journal: Any, injected_seqs: set[str]) -> dict[str, set[str]]:
    """Where every injected stream record ended, read from the journal alone (conservation):
    committed by a successful invoke, written to a destination, or dropped with a reason."""
    processed: set[str] = set()
    for e in journal.entries("invoke_result"):
        processed.update(e.get("committed_sequence_numbers") or ())
    destination = {s for e in journal.entries("destination_write") for s in e["sequence_numbers"]}
    dropped = {s for e in journal.entries("dropped") for s in e["sequence_numbers"]}
    accounted = processed | destination | dropped
    return {"processed": processed, "destination": destination, "dropped": dropped,
            "lost": injected_seqs - accounted}
