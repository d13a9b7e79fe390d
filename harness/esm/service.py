"""EsmService: the Lambda ESM API surface (create/delete/list) plus the shard readers that run
mappings against a real stream: a DynamoDB stream or a Kinesis stream (spec 10), on any backend
reached through boto3. Each mapping's stream kind comes from its EventSourceArn
(sources/registry.py) and says which client reads it ('dynamodbstreams' or 'kinesis'); the
service gets clients from `client(service_name)`, or takes one `streams_client` for DynamoDB only.

Kinesis records carry `invokeIdentityArn`, the function's execution role: `role_of(function
name)` tells the service; without it (or when it returns None) the record carries the
documented stand-in (sources/kinesis.py `stand_in_role`).

Polling: every shard is polled at its kind's rate (spec 7.1, 10: DynamoDB 4/s, Kinesis 1/s;
EngineSettings.dynamodb_poll_interval_s / kinesis_poll_interval_s); `poll_interval_s` overrides
both (tests).

Threads: one coordinator per mapping (lists shards, starts children only after their parent
is finished, spec 8) and one reader per (mapping, shard). `drain` is how tests and scenarios
wait: it returns only after every reader polled again after the call and found nothing to do.
"""

from __future__ import annotations

import threading
import time
import uuid as uuidlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from harness.esm.clock import RealClock
from harness.esm.config import Backoff, EngineSettings, MappingConfig, mapping_response, parse_mapping
from harness.esm.errors import EsmValidationError
from harness.esm.filtering import RecordFilter
from harness.esm.metrics import Metrics, merge
from harness.esm.processor import Stopped
from harness.esm.reader_choice import make_reader
from harness.esm.shard_reader import FINISHED, IDLE, WAITING, ShardReader
from harness.esm.sources import StreamSource, parent_first
from harness.esm.sources.kinesis import stand_in_role


@dataclass
class _ReaderSlot:
    reader: ShardReader
    position: str = "TRIM_HORIZON"  # where the reader started when it had no checkpoint
    thread: threading.Thread | None = None
    idle_since: float | None = None  # monotonic start of the last step that found nothing to do
    finished: bool = False
    error: str | None = None


@dataclass
class _Mapping:
    uuid: str
    cfg: MappingConfig
    response: dict[str, Any]
    metrics: Metrics = field(default_factory=Metrics)
    readers: dict[str, _ReaderSlot] = field(default_factory=dict)
    active: bool = True
    coordinator: threading.Thread | None = None
    listed_at: float | None = None  # monotonic start of the last complete shard listing
    pending_shards: list[str] = field(default_factory=list)  # listed, waiting for a parent
    started_at_creation: set[str] | None = None
    filter: RecordFilter | None = None
    halt: threading.Event = field(default_factory=threading.Event)  # set by delete or stop
    poll_s: float = 0.25  # how long an idle shard waits before polling again (spec 7.1, 10)


class EsmService:
    def __init__(self, *, invoker: Any, destinations: Any, streams_client: Any = None,
                 client: Callable[[str], Any] | None = None, role_of: Callable[[str], str | None] | None = None,
                 clock: Any = None, journal: Any = None, region: str = "us-east-1", account_id: str = "123456789012",
                 poll_interval_s: float | None = None, backoff: Backoff | None = None,
                 settings: EngineSettings | None = None,
                 source_factory: Callable[[str], StreamSource] | None = None) -> None:
        """`client(service)` gives a boto3 client ('dynamodbstreams', 'kinesis'); `streams_client`
        alone serves DynamoDB mappings (callers that read no Kinesis stream). `source_factory(stream ARN)` replaces both (tests).
        `role_of(function name)` is the function's execution role (Kinesis invokeIdentityArn)."""
        self.streams_client = streams_client
        self.invoker = invoker
        self.destinations = destinations
        self.clock = clock if clock is not None else RealClock()
        self.journal = journal
        self.region = region
        self.account_id = account_id
        self.poll_interval_s = poll_interval_s
        settings = settings or EngineSettings()
        self.settings = replace(settings, backoff=backoff) if backoff is not None else settings
        self._client_factory = client
        self._clients: dict[str, Any] = {}
        self._role_of = role_of
        self._source_factory = source_factory
        self._sources: dict[Any, StreamSource] = {}
        self._mappings: dict[str, _Mapping] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._running = False
        self._checkpoints: dict[tuple[str, str], str] = {}  # survives stop()/start()
        self._gate = threading.Event()  # cleared by hold(): readers keep their place and do not poll
        self._gate.set()
        self._steps = threading.Condition()  # guards _stepping: readers inside a step() right now
        self._stepping = 0

    # -- the Lambda API surface ------------------------------------------------------------------
    def create_event_source_mapping(self, **params: Any) -> dict:
        """Validate like Lambda (EsmValidationError with AWS's text) and register the mapping."""
        cfg = parse_mapping(params, region=self.region, account_id=self.account_id, now=self.clock.now())
        if self._source_factory is None:
            self._client(cfg.kind)  # no client for this kind of stream: refuse now, not in a reader thread
        uuid = str(uuidlib.uuid4())
        response = mapping_response(cfg, uuid, self.region, self.account_id, state="Creating",
                                    last_modified=self.clock.now())
        if not cfg.Enabled:
            response["State"] = "Disabled"
        poll_s = self.poll_interval_s if self.poll_interval_s is not None else self.settings.poll_interval(cfg.kind)
        m = _Mapping(uuid, cfg, response, filter=RecordFilter(cfg.Filters, view=cfg.kind.filter_view), poll_s=poll_s)
        with self._lock:
            self._mappings[uuid] = m
            if self._running and cfg.Enabled:
                self._start_mapping(m)
        return dict(response)

    def delete_event_source_mapping(self, UUID: str) -> dict:
        with self._lock:
            m = self._mappings.pop(UUID, None)
        if m is None:
            raise EsmValidationError(f"ResourceNotFoundException: The resource you requested does not exist. (UUID {UUID!r})")
        m.active = False
        m.halt.set()
        for slot in list(m.readers.values()):
            if slot.thread is not None and slot.thread is not threading.current_thread():
                slot.thread.join(timeout=10)
        resp = dict(m.response)
        resp["State"] = "Deleting"
        return resp

    def list_event_source_mappings(self) -> list[dict]:
        with self._lock:
            out = []
            for m in self._mappings.values():
                r = dict(m.response)
                if r["State"] == "Creating":
                    r["State"] = "Enabled" if self._running else "Creating"
                out.append(r)
            return out

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._running:
                return
            self._stop.clear()
            if isinstance(self.clock, RealClock):
                self.clock.rearm()
            self._running = True
            for m in self._mappings.values():
                if m.cfg.Enabled and m.coordinator is None:
                    self._start_mapping(m)

    def stop(self) -> None:
        with self._lock:
            if not self._running:
                return
            self._running = False
            self._stop.set()
            for m in self._mappings.values():
                m.halt.set()
            if isinstance(self.clock, RealClock):
                self.clock.wake()
            threads = [m.coordinator for m in self._mappings.values()]
            threads += [s.thread for m in self._mappings.values() for s in m.readers.values()]
        for t in threads:
            if t is not None:
                t.join(timeout=10)
        with self._lock:
            for m in self._mappings.values():
                m.coordinator = None
                m.readers.clear()  # restart resumes from the checkpoints kept below
                m.listed_at = None

    def drain(self, timeout: float) -> None:
        """Block until every shard of every enabled mapping is read to its end, nothing is in
        flight or waiting for a retry, and every reader has polled since this call began."""
        began = time.monotonic()
        deadline = began + timeout
        while True:
            busy = self._busy(began)
            if busy is None:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"drain timed out after {timeout:.1f}s: {busy} is still busy")
            time.sleep(min(0.02, self.poll_interval_s if self.poll_interval_s is not None else 0.02))

    def hold(self) -> None:
        """Readers stop polling (and keep their shard iterators) until release().

        Why: with StartingPosition LATEST a scenario must start the mapping, wait until it reads at
        the tip, and only then write; holding the readers meanwhile makes the first poll after the
        writes see all of them, as the oracle assumes (spec 7.1: LATEST misses earlier records).
        """
        with self._steps:
            self._gate.clear()
            while self._stepping:  # a poll already under way must end before the caller writes
                self._steps.wait()
        self._journal("esm_held")

    def release(self) -> None:
        self._gate.set()
        self._journal("esm_released")

    def wait_at_tip(self, uuid: str, timeout: float) -> None:
        """Block until every shard of mapping `uuid` has a reader whose iterator is placed (LATEST: at
        the tip as of that moment); TimeoutError names what is missing."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                m = self._mappings.get(uuid)
            if m is None:
                raise EsmValidationError(f"no event source mapping with UUID {uuid!r}")
            missing = self._not_at_tip(m)
            if missing is None:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"mapping {uuid} did not reach the stream's tip within {timeout:.1f}s: {missing}")
            time.sleep(0.01)

    def _not_at_tip(self, m: _Mapping) -> str | None:
        if not self._running:
            return "the service is not started"
        if m.listed_at is None:
            return "shards not listed yet"
        if m.pending_shards:
            return f"shard {m.pending_shards[0]} waits for its parent"
        if not m.readers:
            return "no shard reader yet"
        for shard_id, slot in list(m.readers.items()):
            if not slot.finished and not getattr(slot.reader.cursor, "positioned", True):
                return f"shard {shard_id} has no iterator yet"
        return None

    def metrics(self, uuid: str | None = None) -> dict[str, float]:
        with self._lock:
            if uuid is None:
                return merge([m.metrics.snapshot() for m in self._mappings.values()])
            m = self._mappings.get(uuid)
        if m is None:
            raise EsmValidationError(f"no event source mapping with UUID {uuid!r}")
        return m.metrics.snapshot()

    # -- internals -------------------------------------------------------------------------------
    def _busy(self, since: float) -> str | None:
        if not self._running:
            return "the service (not started)"
        with self._lock:
            mappings = [m for m in self._mappings.values() if m.cfg.Enabled and m.active]
        for m in mappings:
            if m.listed_at is None or m.listed_at < since:
                return f"mapping {m.uuid} (shard listing)"
            if m.pending_shards:
                return f"mapping {m.uuid} shard {m.pending_shards[0]} (waiting for its parent)"
            for shard_id, slot in list(m.readers.items()):
                if slot.finished:
                    continue
                r = slot.reader
                if r.in_flight or r.buffer or slot.idle_since is None or slot.idle_since < since:
                    why = "batch in flight or retrying" if r.in_flight else "records buffered" if r.buffer else "not yet polled"
                    return f"mapping {m.uuid} shard {shard_id} ({why})"
        return None

    def _client(self, kind: Any) -> Any:
        """The boto3 client that reads this kind of stream; EsmValidationError when none was given."""
        with self._lock:
            if kind.client_service not in self._clients:
                if kind.client_service == "dynamodbstreams" and self.streams_client is not None:
                    self._clients[kind.client_service] = self.streams_client
                elif self._client_factory is not None:
                    self._clients[kind.client_service] = self._client_factory(kind.client_service)
                else:
                    raise EsmValidationError(
                        f"this EsmService has no client to read a {kind.label} ({kind.client_service}): "
                        "construct it with client=<factory of boto3 clients by service name>")
            return self._clients[kind.client_service]

    def _identity(self, m: _Mapping) -> str:
        """Kinesis invokeIdentityArn: the function's execution role, else the stand-in (spec 10)."""
        role = None
        if self._role_of is not None:
            try:
                role = self._role_of(m.cfg.FunctionName)
            except Exception as exc:  # noqa: BLE001 - a lookup failure must not stop the mapping
                self._journal("reader_error", uuid=m.uuid, shard_id=None, error=f"role_of({m.cfg.FunctionName}): {exc}")
        return role or stand_in_role(m.cfg.stream_arn.split(":")[4])

    def _source(self, m: _Mapping) -> StreamSource:
        """One source per stream (and, for Kinesis, per invoke identity the records carry)."""
        cfg = m.cfg
        if self._source_factory is not None:
            key: Any = cfg.EventSourceArn
            make: Callable[[], StreamSource] = lambda: self._source_factory(cfg.EventSourceArn)  # noqa: E731
        else:
            kind = cfg.kind
            identity = self._identity(m)  # only the kinds whose records carry it (Kinesis) use it
            key = (cfg.stream_arn, identity)
            make = lambda: kind.open_source(self._client(kind), cfg.stream_arn, self.region,  # noqa: E731
                                            invoke_identity_arn=identity)
        with self._lock:
            if key not in self._sources:
                self._sources[key] = make()
            return self._sources[key]

    def _start_mapping(self, m: _Mapping) -> None:
        m.halt.clear()
        m.coordinator = threading.Thread(target=self._coordinate, args=(m,), name=f"esm-{m.uuid[:8]}", daemon=True)
        m.coordinator.start()

    def _alive(self, m: _Mapping) -> bool:
        return self._running and m.active and not m.halt.is_set()

    def _sleep(self, m: _Mapping) -> Callable[[float], None]:
        def sleep(seconds: float) -> None:
            if isinstance(self.clock, RealClock):
                m.halt.wait(seconds)
            else:
                self.clock.sleep(seconds)
            if not self._alive(m):
                raise Stopped()
        return sleep

    def _coordinate(self, m: _Mapping) -> None:
        try:
            source = self._source(m)
        except Exception as exc:  # noqa: BLE001 - e.g. a client that cannot be made; journaled
            self._journal("reader_error", uuid=m.uuid, shard_id=None, error=str(exc))
            return
        while self._alive(m):
            began = time.monotonic()
            try:
                shards = parent_first(source.list_shards())
            except Exception as exc:  # noqa: BLE001 - a listing failure is retried, and journaled
                self._journal("reader_error", uuid=m.uuid, shard_id=None, error=str(exc))
                m.halt.wait(m.poll_s)
                continue
            if m.started_at_creation is None:
                m.started_at_creation = {s.shard_id for s in shards}
            known = {s.shard_id for s in shards}
            pending = []
            for s in shards:
                if s.shard_id in m.readers:
                    continue
                # Spec 8: parent before child; a Kinesis shard made by a merge waits for both parents.
                waiting = [p for p in s.parents if p in known
                           and (m.readers.get(p) is None or not m.readers[p].finished)]
                if waiting:
                    pending.append(s.shard_id)
                    continue
                self._start_reader(m, s.shard_id, source)
            m.pending_shards = pending
            m.listed_at = began
            m.halt.wait(m.poll_s)

    def _start_reader(self, m: _Mapping, shard_id: str, source: StreamSource) -> None:
        # StartingPosition applies to the shards that existed when the mapping started; shards
        # born later (children, rollovers) are read from their start so nothing is skipped.
        position = m.cfg.StartingPosition if shard_id in (m.started_at_creation or ()) else "TRIM_HORIZON"
        checkpoint = self._checkpoints.get((m.uuid, shard_id))
        cursor = self._open(m, source, shard_id, position, checkpoint)
        reader = make_reader(uuid=m.uuid, shard_id=shard_id, mapping=m.cfg, settings=self.settings, cursor=cursor,
                             invoker=self.invoker, destinations=self.destinations, clock=self.clock,
                             metrics=m.metrics, journal=self.journal, record_filter=m.filter or RecordFilter(()),
                             sleep=self._sleep(m), checkpoint=checkpoint)
        slot = _ReaderSlot(reader, position=position)
        slot.thread = threading.Thread(target=self._read, args=(m, slot), name=f"esm-{m.uuid[:8]}-{shard_id[-8:]}",
                                       daemon=True)
        m.readers[shard_id] = slot
        slot.thread.start()

    def _read(self, m: _Mapping, slot: _ReaderSlot) -> None:
        r = slot.reader
        try:
            while self._alive(m):
                with self._steps:
                    held = not self._gate.is_set()
                    if not held:
                        self._stepping += 1
                if held:
                    self._gate.wait(0.05)
                    continue
                began = time.monotonic()
                try:
                    try:
                        state = r.step()
                    finally:
                        with self._steps:
                            self._stepping -= 1
                            self._steps.notify_all()
                except Stopped:
                    return
                except Exception as exc:  # noqa: BLE001 - the shard retries; the journal says why
                    slot.error = str(exc)
                    self._journal("reader_error", uuid=m.uuid, shard_id=r.shard_id, error=str(exc),
                                  checkpoint=r.checkpoint)
                    m.halt.wait(m.poll_s)
                    # At least once: whatever was buffered or mid-batch is re-read from the checkpoint.
                    try:
                        r.rewind(self._open(m, self._source(m), r.shard_id,
                                            "TRIM_HORIZON" if r.checkpoint is None and r.seen_any else slot.position,
                                            r.checkpoint))
                    except Exception as exc2:  # noqa: BLE001
                        self._journal("reader_error", uuid=m.uuid, shard_id=r.shard_id, error=str(exc2))
                    continue
                if state == FINISHED:
                    slot.finished = True
                    return
                if state == IDLE:
                    slot.idle_since = began
                    m.halt.wait(m.poll_s)
                elif state != "worked":
                    slot.idle_since = None
                    wake = r.retry_wake() if state == WAITING and not isinstance(self.clock, RealClock) else None
                    if wake is not None:
                        # Lanes wait out backoffs without sleeping; on a virtual clock nobody else
                        # would move time to the end of the backoff, so this reader does.
                        try:
                            self._sleep(m)(max(0.0, wake - self.clock.now()))
                        except Stopped:
                            return
                    else:
                        m.halt.wait(min(m.poll_s, 0.05))
                else:
                    slot.idle_since = None
        finally:
            r.close()
            if r.checkpoint is not None:
                with self._lock:
                    self._checkpoints[(m.uuid, r.shard_id)] = r.checkpoint

    @staticmethod
    def _open(m: _Mapping, source: StreamSource, shard_id: str, position: str, checkpoint: str | None) -> Any:
        """A cursor after the checkpoint, else at `position`; AT_TIMESTAMP carries its time (spec 10)."""
        if checkpoint is None and position == "AT_TIMESTAMP":
            return source.open(shard_id, starting_position=position, after_sequence=None,  # type: ignore[call-arg]
                               timestamp=m.cfg.StartingPositionTimestamp)
        return source.open(shard_id, starting_position=position, after_sequence=checkpoint)

    def _journal(self, kind: str, **fields: Any) -> None:
        if self.journal is not None:
            self.journal.record(kind, **fields)
