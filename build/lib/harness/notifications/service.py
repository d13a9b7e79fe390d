"""S3 ObjectCreated -> Lambda delivery for backends that lack it (moto cannot reach the local runtime).

Configured buckets are polled with ListObjectsV2; a key never seen before, or seen with another
ETag or LastModified, is a created object. Objects already present when a bucket is configured are not "created".
Delivery is an asynchronous invocation: a function error or a service error is retried
(AWS's async default: 2 retries, 3 attempts) and then given up on with a `notification_failed`
journal entry. Every detected object stays in `deliveries()` with its status, so none is lost.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from harness.invoke import InvokeServiceError
from harness.notifications.config import NotificationConfigError, Rule, parse
from harness.notifications.events import object_created_event

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def _watched_prefixes(rules: list[Rule]) -> tuple[str, ...] | None:
    """The fewest prefixes that cover every rule's prefix; None when a rule watches the whole bucket."""
    prefixes = sorted({rule.prefix for rule in rules})
    if not prefixes:
        return ()
    if "" in prefixes:
        return None
    kept: list[str] = []
    for prefix in prefixes:  # sorted: a prefix's extensions follow it directly
        if not kept or not prefix.startswith(kept[-1]):
            kept.append(prefix)
    return tuple(kept)


def _fingerprint(obj: dict[str, Any]) -> tuple[str, str]:
    """ETag catches a changed object; LastModified also catches identical content written again."""
    return obj.get("ETag", ""), str(obj.get("LastModified", ""))


class NotificationTimeout(TimeoutError):
    """`drain` passed its deadline; the message lists the deliveries still pending."""


@dataclass
class Delivery:
    """One (object, configuration) pair and what became of it."""

    bucket: str
    key: str
    etag: str
    size: int
    function: str
    configuration_id: str
    sequencer: str
    event: dict[str, Any]
    status: str = PENDING
    attempts: int = 0
    error: str | None = None
    results: list[str] = field(default_factory=list)


class NotificationService:
    """Watches configured buckets and invokes the configured functions for created objects."""

    def __init__(self, *, s3_client: Any, invoker: Any, journal: Any = None, poll_interval_s: float = 0.2,
                 region: str = "us-east-1", max_attempts: int = 3, retry_backoff_s: float = 0.05) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self._s3 = s3_client
        self._invoker = invoker
        self._journal = journal
        self._poll_interval_s = poll_interval_s
        self._region = region
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._rules: dict[str, list[Rule]] = {}
        self._seen: dict[str, dict[str, tuple[str, str]]] = {}  # bucket -> key -> (ETag, LastModified)
        self._deliveries: list[Delivery] = []
        self._queue: queue.Queue[Delivery] = queue.Queue()
        self._sequence = 0
        self._scan_lock = threading.Lock()
        self._state = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._poll_errors: dict[str, str] = {}

    # -- configuration ------------------------------------------------------------------------

    def configure(self, bucket: str, config: dict) -> None:
        """Replace `bucket`'s notification configuration (PutBucketNotificationConfiguration semantics)."""
        rules, notes = parse(bucket, config)
        with self._scan_lock:
            first = bucket not in self._rules
            watched_before = _watched_prefixes(self._rules.get(bucket, []))
            try:
                existing = {obj["Key"]: _fingerprint(obj) for obj in self._list(bucket)}
            except Exception as exc:
                raise NotificationConfigError(f"bucket {bucket!r} cannot be listed: {exc}") from exc
            seen = self._seen.setdefault(bucket, {})
            # Objects that exist when a configuration takes effect are never "created" for it. Keys the
            # scans already track keep their state (a pending creation is still delivered); keys outside
            # what was scanned before (or all keys, the first time) are marked as already there.
            for key, fingerprint in existing.items():
                scanned = watched_before is None or key.startswith(watched_before)
                if first or not scanned:
                    seen.setdefault(key, fingerprint)
            self._rules[bucket] = rules
        self._record("notification_configured", bucket=bucket, preexisting=len(self._seen[bucket]),
                     rules=[{"function": r.function_name, "prefix": r.prefix, "suffix": r.suffix,
                             "events": list(r.events), "configuration_id": r.configuration_id} for r in rules])
        for note in notes:
            self._record("notification_note", bucket=bucket, note=note)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._poll_loop, name="s3-notifications-poll", daemon=True),
            threading.Thread(target=self._deliver_loop, name="s3-notifications-deliver", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop polling and delivering; undelivered objects stay listed as pending."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []

    def __enter__(self) -> "NotificationService":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- observation --------------------------------------------------------------------------

    def deliveries(self) -> list[Delivery]:
        """A snapshot of every detected (object, function) delivery, in detection order."""
        with self._state:
            return [replace(d, results=list(d.results)) for d in self._deliveries]

    def drain(self, timeout: float) -> None:
        """Block until every object created so far has been delivered or given up on.

        Scans first, so an object written just before the call is included. Without `start()`,
        deliveries run in the calling thread.
        """
        deadline = time.monotonic() + timeout
        self.scan()
        while True:
            if not self._threads:
                self._deliver_available()
            with self._state:
                pending = [d for d in self._deliveries if d.status == PENDING]
                if not pending:
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    names = ", ".join(f"s3://{d.bucket}/{d.key} -> {d.function}" for d in pending[:5])
                    raise NotificationTimeout(
                        f"timed out after {timeout:.1f}s with {len(pending)} notification(s) pending: {names}"
                    )
                self._state.wait(min(remaining, 0.05))

    # -- polling ------------------------------------------------------------------------------

    def scan(self) -> int:
        """One pass over the configured buckets now; returns how many deliveries it queued."""
        queued = 0
        with self._scan_lock:
            for bucket, rules in list(self._rules.items()):
                prefixes = _watched_prefixes(rules)
                try:
                    listing = self._list(bucket, prefixes)
                except Exception as exc:
                    self._poll_error(bucket, exc)
                    continue
                self._poll_errors.pop(bucket, None)
                seen = self._seen.setdefault(bucket, {})
                current = {obj["Key"]: obj for obj in listing}
                for key in list(seen):
                    if key not in current and (prefixes is None or key.startswith(prefixes)):
                        del seen[key]  # deleted: re-creating it is a new ObjectCreated
                created = [obj for key, obj in current.items() if seen.get(key) != _fingerprint(obj)]
                created.sort(key=lambda o: (o.get("LastModified") or datetime.min.replace(tzinfo=timezone.utc), o["Key"]))
                for obj in created:
                    seen[obj["Key"]] = _fingerprint(obj)
                    queued += self._enqueue(bucket, rules, obj)
        return queued

    def _list(self, bucket: str, prefixes: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Every object of `bucket`, or only those under `prefixes` (None: the whole bucket).

        Why prefixes: a scan runs every poll interval, and the failure bucket also holds the failure
        handler's archive copies, which no rule watches; listing only the watched prefixes halves a
        scan there, and a scan costs O(objects listed) on every poll.
        """
        objects: list[dict[str, Any]] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for prefix in prefixes if prefixes is not None else (None,):
            params = {"Bucket": bucket} if prefix is None else {"Bucket": bucket, "Prefix": prefix}
            for page in paginator.paginate(**params):
                objects.extend(page.get("Contents", []))
        return objects

    def _enqueue(self, bucket: str, rules: list[Rule], obj: dict[str, Any]) -> int:
        count = 0
        when = obj.get("LastModified") or datetime.now(timezone.utc)
        for rule in rules:
            if not rule.matches(obj["Key"]):
                continue
            self._sequence += 1
            sequencer = f"{self._sequence:016X}"
            event = object_created_event(rule=rule, key=obj["Key"], size=int(obj.get("Size", 0)),
                                         etag=obj.get("ETag", ""), sequencer=sequencer, when=when, region=self._region)
            delivery = Delivery(bucket=bucket, key=obj["Key"], etag=obj.get("ETag", "").strip('"'),
                                size=int(obj.get("Size", 0)), function=rule.function_name,
                                configuration_id=rule.configuration_id, sequencer=sequencer, event=event)
            with self._state:
                self._deliveries.append(delivery)
            self._record("notification_detected", bucket=bucket, key=obj["Key"], function=rule.function_name,
                         sequencer=sequencer)
            self._queue.put(delivery)
            count += 1
        return count

    def _poll_error(self, bucket: str, exc: Exception) -> None:
        message = f"{type(exc).__name__}: {exc}"
        if self._poll_errors.get(bucket) != message:  # one entry per distinct error, not one per poll
            self._poll_errors[bucket] = message
            self._record("notification_poll_error", bucket=bucket, error=message)

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            self.scan()
            self._stop.wait(self._poll_interval_s)

    # -- delivery -----------------------------------------------------------------------------

    def _deliver_loop(self) -> None:
        while not self._stop.is_set():
            try:
                delivery = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            self._deliver(delivery, inline=False)

    def _deliver_available(self) -> None:
        while True:
            try:
                delivery = self._queue.get_nowait()
            except queue.Empty:
                return
            self._deliver(delivery, inline=True)

    def _deliver(self, delivery: Delivery, *, inline: bool) -> None:
        payload = json.dumps(delivery.event).encode()
        while delivery.attempts < self._max_attempts:
            if delivery.attempts:
                backoff = self._retry_backoff_s * 2 ** (delivery.attempts - 1)
                if inline:
                    time.sleep(backoff)
                elif self._stop.wait(backoff):
                    self._queue.put(delivery)  # stopping: still pending, listed, and resumed by a restart
                    return
            attempt = delivery.attempts + 1
            result, error, retryable, request_id = self._invoke_once(delivery.function, payload)
            with self._state:
                delivery.attempts = attempt
                delivery.results.append(result)
                delivery.error = error
                if result == "success":
                    delivery.status = DELIVERED
                elif not retryable or attempt >= self._max_attempts:
                    delivery.status = FAILED
                self._state.notify_all()
            self._record("notification", bucket=delivery.bucket, key=delivery.key, function=delivery.function,
                         attempt=attempt, result=result, error=error, request_id=request_id,
                         sequencer=delivery.sequencer)
            if delivery.status == DELIVERED:
                return
            if delivery.status == FAILED:
                self._record("notification_failed", bucket=delivery.bucket, key=delivery.key,
                             function=delivery.function, attempts=attempt, error=error)
                return

    def _invoke_once(self, function: str, payload: bytes) -> tuple[str, str | None, bool, str | None]:
        """(result, error, retryable, request_id) of one attempt.

        Note: AWS retries throttles and service errors of async invokes for up to 6 hours without
        counting them; here they count against `max_attempts` so a dead backend cannot stall a run.
        """
        try:
            outcome = self._invoker.invoke(function, payload)
        except InvokeServiceError as exc:
            return ("throttled" if exc.throttled else "service_error"), str(exc), True, None
        except LookupError as exc:  # the function does not exist: retrying cannot help
            return "function_not_found", str(exc), False, None
        except Exception as exc:
            return "error", f"{type(exc).__name__}: {exc}", True, None
        if outcome.function_error is None:
            return "success", None, True, outcome.request_id
        detail = outcome.payload.decode("utf-8", "replace")[:500]
        return "function_error", f"{outcome.function_error}: {detail}", True, outcome.request_id

    def _record(self, kind: str, **fields: Any) -> None:
        if self._journal is not None:
            self._journal.record(kind, **fields)
