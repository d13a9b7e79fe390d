"""Run a batch's projection writes concurrently across item keys, in order within each key.

Why: each write is one conditional request whose cost is mostly round trip (client signing and
parsing on one side, the service on the other). Writes to different items do not depend on each
other, so overlapping them shortens a batch; writes to the same item must stay in stream order,
so each key's writes form one chain that a single thread runs front to back.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Callable, Hashable, Sequence, TypeVar

T = TypeVar("T")

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(width: int) -> ThreadPoolExecutor:
    """One pool per width for the life of the execution environment (warm invokes reuse it)."""
    with _pools_lock:
        if width not in _pools:
            _pools[width] = ThreadPoolExecutor(max_workers=width, thread_name_prefix="projection")
        return _pools[width]


def run_by_key(items: Sequence[T], key: Callable[[T], Hashable], work: Callable[[T], str], *, width: int,
               stop_on_error: bool) -> list[str | Exception | None]:
    """Apply `work` to every item; result i is its outcome, the exception it raised, or None if it
    was never started. Items sharing a key run in their order, one at a time. With `stop_on_error`
    no write starts after one has failed (writes already in flight finish), and the rest of a
    failed key's chain never starts. width 1 runs strictly in item order, like a plain loop."""
    results: list[str | Exception | None] = [None] * len(items)
    stop = threading.Event()

    def run_chain(indexes: list[int]) -> None:
        for i in indexes:
            if stop.is_set():
                return
            try:
                results[i] = work(items[i])
            except Exception as exc:  # noqa: BLE001 - reported to the caller per item
                results[i] = exc
                if stop_on_error:
                    stop.set()
                    return

    chains: dict[Hashable, list[int]] = {}
    for i, item in enumerate(items):
        chains.setdefault(key(item), []).append(i)
    if width <= 1 or len(chains) <= 1:
        run_chain(list(range(len(items))))
        return results
    pool = _pool(width)
    wait([pool.submit(run_chain, chain) for chain in chains.values()])
    return results
