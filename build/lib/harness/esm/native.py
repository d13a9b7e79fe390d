"""NativeEsm: the EsmService surface, passed through to a backend's own event source mappings.

Why: `--esm native` measures how faithful LocalStack's (or AWS's) own ESM is to the spec, by
running the same scenarios with the backend polling the stream instead of the harness. The
applier and the pipeline see the same five calls as with the harness engine; nothing here
reimplements ESM behaviour.

Never use this with the embedded backend: moto's mappings would try Docker and consume the
stream themselves (LocalPipeline refuses that combination).

What `drain` can and cannot mean here. The harness engine knows its readers' checkpoints; a
native ESM does not expose them (neither the Lambda API nor LocalStack reports how far the
poller has read, and AWS's IteratorAge metric is CloudWatch-only and per minute). So `drain`
waits for *quiet*: every mapping that should run reports State `Enabled`, and for `quiet_s`
seconds neither the mappings' reported state (State, LastProcessingResult, StateTransitionReason)
nor the end of any source stream (its last sequence number, read with our own iterator) has
changed. Quiet is evidence, not proof: a batch waiting out a retry backoff longer than `quiet_s`,
or a poller that is stuck, looks the same as a finished one. Scenarios must therefore judge the
outcome from the backend's state (destination objects, projected items), never from `drain`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

_OBSERVED = ("State", "LastProcessingResult", "StateTransitionReason")


class NativeEsmError(RuntimeError):
    """A Lambda ESM API call failed; the message names the call and the mapping or function."""


class NativeEsm:
    """The backend's own event source mappings behind the harness's EsmService calls."""

    def __init__(
        self,
        lambda_client: Any,
        journal: Any = None,
        *,
        streams_client: Any = None,
        quiet_s: float = 5.0,
        poll_interval_s: float = 0.5,
    ) -> None:
        if quiet_s <= 0 or poll_interval_s <= 0:
            raise ValueError(f"quiet_s and poll_interval_s must be positive, got {quiet_s!r}, {poll_interval_s!r}")
        self.client = lambda_client
        self.streams_client = streams_client
        self.journal = journal
        self.quiet_s = quiet_s
        self.poll_interval_s = poll_interval_s
        self._lock = threading.Lock()
        self._uuids: list[str] = []
        self._wanted: dict[str, bool] = {}  # UUID -> Enabled as the template asked
        self._running = False
        self._iterators: dict[tuple[str, str], str | None] = {}  # (stream, shard) -> next iterator
        self._tails: dict[tuple[str, str], str] = {}  # (stream, shard) -> last sequence number seen

    # -- the Lambda API surface ------------------------------------------------------------------
    def create_event_source_mapping(self, **params: Any) -> dict:
        """CreateEventSourceMapping on the backend, returning its response (UUID included).

        Before `start()` the mapping is created disabled and enabled by `start()`, so that a
        scenario can write every record first (`deploy(start_polling=False)`), as with the
        harness engine. The response then says `Enabled: false`/`State: Disabled`; that is ours.
        """
        wanted = bool(params.get("Enabled", True))
        sent = dict(params)
        with self._lock:
            running = self._running
        if not running:
            sent["Enabled"] = False
        response = _strip(self._call("CreateEventSourceMapping", str(params.get("FunctionName")),
                                     self.client.create_event_source_mapping, **sent))
        uuid = str(response.get("UUID", ""))
        if not uuid:
            raise NativeEsmError(f"CreateEventSourceMapping for {params.get('FunctionName')!r} returned no UUID")
        with self._lock:
            self._uuids.append(uuid)
            self._wanted[uuid] = wanted
        self._record("native_mapping", action="created", uuid=uuid, function=params.get("FunctionName"),
                     enabled_now=sent.get("Enabled", True), enabled_wanted=wanted,
                     bisect=params.get("BisectBatchOnFunctionError"))
        return response

    def delete_event_source_mapping(self, UUID: str) -> dict:  # noqa: N803 - the Lambda API's name
        response = _strip(self._call("DeleteEventSourceMapping", UUID, self.client.delete_event_source_mapping,
                                     UUID=UUID))
        with self._lock:
            if UUID in self._uuids:
                self._uuids.remove(UUID)
            self._wanted.pop(UUID, None)
        return response

    def list_event_source_mappings(self) -> list[dict]:
        """The backend's current view of the mappings created through this object."""
        with self._lock:
            uuids = list(self._uuids)
        return [_strip(self._call("GetEventSourceMapping", u, self.client.get_event_source_mapping, UUID=u))
                for u in uuids]

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Enable the mappings the template wanted enabled; from here on the backend polls."""
        with self._lock:
            if self._running:
                return
            self._running = True
            todo = [u for u in self._uuids if self._wanted.get(u)]
        for uuid in todo:
            self._set_enabled(uuid, True)

    def stop(self) -> None:
        """Disable our mappings so the backend stops invoking after the harness has left.

        Disable, not delete: the mappings belong to the deployed stack. A failure on one mapping
        does not keep the others enabled; the first error is raised after all were tried.
        """
        with self._lock:
            if not self._running:
                return
            self._running = False
            todo = [u for u in self._uuids if self._wanted.get(u)]
        first: Exception | None = None
        for uuid in todo:
            try:
                self._set_enabled(uuid, False)
            except NativeEsmError as exc:
                first = first or exc
        if first is not None:
            raise first

    def drain(self, timeout: float) -> None:
        """Wait for quiet (see the module docstring: quiet is not proof that every record was handled).

        Raises TimeoutError naming what was still changing or not yet enabled.
        """
        began = time.monotonic()
        deadline = began + timeout
        last: Any = None
        stable_since = began
        why = "no observation yet"
        while True:
            now = time.monotonic()
            mappings = self.list_event_source_mappings()
            not_enabled = [m["UUID"] for m in mappings if self._wanted.get(m["UUID"]) and m.get("State") != "Enabled"]
            observed = (tuple((m["UUID"], tuple(str(m.get(k)) for k in _OBSERVED)) for m in mappings),
                        self._stream_tails(mappings))
            if observed != last or not_enabled:
                last, stable_since = observed, now
                why = (f"mapping(s) not Enabled yet: {', '.join(not_enabled)}" if not_enabled
                       else "mapping state or stream end changed")
            elif now - stable_since >= self.quiet_s:
                self._record("native_drain", quiet_s=self.quiet_s, waited_s=round(now - began, 3),
                             mappings={m["UUID"]: m.get("LastProcessingResult") for m in mappings})
                return
            if now >= deadline:
                raise TimeoutError(f"native ESM drain timed out after {timeout:.1f}s: {why} "
                                   f"(needs {self.quiet_s:g}s without change)")
            time.sleep(min(self.poll_interval_s, max(0.0, deadline - now)))

    def metrics(self, uuid: str | None = None) -> dict[str, float]:
        """Always {}: a native ESM reports no per-batch metrics through the Lambda API.

        AWS publishes IteratorAge and friends to CloudWatch by the minute, and LocalStack not at
        all; scenario verdicts on a native ESM must come from the journal and the backend state.
        """
        return {}

    # -- internals -------------------------------------------------------------------------------
    def _set_enabled(self, uuid: str, enabled: bool) -> None:
        self._call("UpdateEventSourceMapping", uuid, self.client.update_event_source_mapping,
                   UUID=uuid, Enabled=enabled)
        self._record("native_mapping", action="enabled" if enabled else "disabled", uuid=uuid)

    def _stream_tails(self, mappings: list[dict]) -> tuple[tuple[str, str, str], ...]:
        """The last sequence number of every shard of every source stream, read with our own iterators.

        Only with a streams client; without one, quiet means the mappings' state alone.
        """
        if self.streams_client is None:
            return ()
        for arn in sorted({str(m.get("EventSourceArn")) for m in mappings if m.get("EventSourceArn")}):
            try:
                self._advance(arn)
            except (ClientError, BotoCoreError) as exc:
                self._record("native_drain_error", stream=arn, error=str(exc))
        return tuple(sorted((s, sh, seq) for (s, sh), seq in self._tails.items()))

    def _advance(self, stream_arn: str) -> None:
        for shard in _shards(self.streams_client, stream_arn):
            key = (stream_arn, shard)
            if key not in self._iterators:
                self._iterators[key] = self.streams_client.get_shard_iterator(
                    StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            for _ in range(100):  # bounded per poll; the next poll continues from here
                iterator = self._iterators[key]
                if iterator is None:  # a closed shard read to its end
                    break
                page = self.streams_client.get_records(ShardIterator=iterator)
                self._iterators[key] = page.get("NextShardIterator")
                records = page.get("Records", [])
                if records:
                    self._tails[key] = str(records[-1]["dynamodb"]["SequenceNumber"])
                else:
                    break

    def _call(self, operation: str, subject: str, method: Any, **params: Any) -> Any:
        try:
            return method(**params)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise NativeEsmError(f"Lambda {operation} ({subject}) failed: {err.get('Code')}: {err.get('Message')}") from None
        except BotoCoreError as exc:
            raise NativeEsmError(f"Lambda {operation} ({subject}) failed: {type(exc).__name__}: {exc}") from None

    def _record(self, kind: str, **fields: Any) -> None:
        if self.journal is not None:
            self.journal.record(kind, **fields)


def _shards(streams_client: Any, stream_arn: str) -> list[str]:
    shards: list[str] = []
    start: str | None = None
    while True:
        params: dict[str, Any] = {"StreamArn": stream_arn}
        if start:
            params["ExclusiveStartShardId"] = start
        desc = streams_client.describe_stream(**params)["StreamDescription"]
        shards.extend(s["ShardId"] for s in desc.get("Shards", []))
        start = desc.get("LastEvaluatedShardId")
        if not start:
            return shards


def _strip(response: Any) -> dict:
    return {k: v for k, v in dict(response or {}).items() if k != "ResponseMetadata"}


__all__ = ["NativeEsm", "NativeEsmError"]
