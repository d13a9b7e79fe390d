"""EsmService: the Lambda ESM API surface (create/delete/list) plus the shard readers that run
mappings against a real stream (any backend reached through a boto3 'dynamodbstreams' client).

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
from harness.esm.reader import FINISHED, IDLE, WAITING, ShardReader
from harness.esm.readers import make_reader
from harness.esm.sources import StreamSource, parent_first
from harness.esm.sources.dynamodb_streams import DynamoDBStreamSource


@dataclass
class _ReaderSlot:
    reader: ShardReader
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


class EsmService:
    def __init__(self, *, streams_client: Any, invoker: Any, destinations: Any, clock: Any = None,
                 journal: Any = None, region: str = "us-east-1", account_id: str = "123456789012",
                 poll_interval_s: float = 0.25, backoff: Backoff | None = None,
                 settings: EngineSettings | None = None,
                 source_factory: Callable[[str], StreamSource] | None = None) -> None:
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
        self._source_factory = source_factory or (lambda arn: DynamoDBStreamSource(streams_client, arn, region))
        self._sources: dict[str, StreamSource] = {}
        self._mappings: dict[str, _Mapping] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._running = False
        self._checkpoints: dict[tuple[str, str], str] = {}  # survives stop()/start()
        self._open = threading.Event()  # cleared by hold(): readers keep their place and do not poll
        self._open.set()
        self._steps = threading.Condition()  # guards _stepping: readers inside a step() right now
        self._stepping = 0

    # -- the Lambda API surface ------------------------------------------------------------------
    def create_event_source_mapping(self, **params: Any) -> dict:
        """Validate like Lambda (EsmValidationError with AWS's text) and register the mapping."""
        cfg = parse_mapping(params, region=self.region, account_id=self.account_id)
        uuid = str(uuidlib.uuid4())
        response = mapping_response(cfg, uuid, self.region, self.account_id, state="Creating",
                                    last_modified=self.clock.now())
        if not cfg.Enabled:
            response["State"] = "Disabled"
        m = _Mapping(uuid, cfg, response, filter=RecordFilter(cfg.Filters))
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
            time.sleep(min(0.02, self.poll_interval_s))

    def hold(self) -> None:
        """Readers stop polling (and keep their shard iterators) until release().

        Why: with StartingPosition LATEST a scenario must start the mapping, wait until it reads at
        the tip, and only then write; holding the readers meanwhile makes the first poll after the
        writes see all of them, as the oracle assumes (spec 7.1: LATEST misses earlier records).
        """
        with self._steps:
            self._open.clear()
            while self._stepping:  # a poll already under way must end before the caller writes
                self._steps.wait()
        self._journal("esm_held")

    def release(self) -> None:
        self._open.set()
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

    def _source(self, arn: str) -> StreamSource:
        with self._lock:
            if arn not in self._sources:
                self._sources[arn] = self._source_factory(arn)
            return self._sources[arn]

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
        source = self._source(m.cfg.EventSourceArn)
        while self._alive(m):
            began = time.monotonic()
            try:
                shards = parent_first(source.list_shards())
            except Exception as exc:  # noqa: BLE001 - a listing failure is retried, and journaled
                self._journal("reader_error", uuid=m.uuid, shard_id=None, error=str(exc))
                m.halt.wait(self.poll_interval_s)
                continue
            if m.started_at_creation is None:
                m.started_at_creation = {s.shard_id for s in shards}
            known = {s.shard_id for s in shards}
            pending = []
            for s in shards:
                if s.shard_id in m.readers:
                    continue
                parent = m.readers.get(s.parent_shard_id or "")
                parent_listed = s.parent_shard_id in known
                if parent_listed and (parent is None or not parent.finished):
                    pending.append(s.shard_id)  # spec 8: parent before child
                    continue
                self._start_reader(m, s.shard_id, source)
            m.pending_shards = pending
            m.listed_at = began
            m.halt.wait(self.poll_interval_s)

    def _start_reader(self, m: _Mapping, shard_id: str, source: StreamSource) -> None:
        # StartingPosition applies to the shards that existed when the mapping started; shards
        # born later (children, rollovers) are read from their start so nothing is skipped.
        position = m.cfg.StartingPosition if shard_id in (m.started_at_creation or ()) else "TRIM_HORIZON"
        checkpoint = self._checkpoints.get((m.uuid, shard_id))
        cursor = source.open(shard_id, starting_position=position, after_sequence=checkpoint)
        reader = make_reader(uuid=m.uuid, shard_id=shard_id, mapping=m.cfg, settings=self.settings, cursor=cursor,
                             invoker=self.invoker, destinations=self.destinations, clock=self.clock,
                             metrics=m.metrics, journal=self.journal, record_filter=m.filter or RecordFilter(()),
                             sleep=self._sleep(m), checkpoint=checkpoint)
        slot = _ReaderSlot(reader)
        slot.thread = threading.Thread(target=self._read, args=(m, slot), name=f"esm-{m.uuid[:8]}-{shard_id[-8:]}",
                                       daemon=True)
        m.readers[shard_id] = slot
        slot.thread.start()

    def _read(self, m: _Mapping, slot: _ReaderSlot) -> None:
        r = slot.reader
        try:
            while self._alive(m):
                with self._steps:
                    held = not self._open.is_set()
                    if not held:
                        self._stepping += 1
                if held:
                    self._open.wait(self.poll_interval_s)
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
                    m.halt.wait(self.poll_interval_s)
                    # At least once: whatever was buffered or mid-batch is re-read from the checkpoint.
                    try:
                        r.rewind(self._source(m.cfg.EventSourceArn).open(
                            r.shard_id, starting_position="TRIM_HORIZON" if r.checkpoint is None and r.seen_any
                            else m.cfg.StartingPosition, after_sequence=r.checkpoint))
                    except Exception as exc2:  # noqa: BLE001
                        self._journal("reader_error", uuid=m.uuid, shard_id=r.shard_id, error=str(exc2))
                    continue
                if state == FINISHED:
                    slot.finished = True
                    return
                if state == IDLE:
                    slot.idle_since = began
                    m.halt.wait(self.poll_interval_s)
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
                        m.halt.wait(min(self.poll_interval_s, 0.05))
                else:
                    slot.idle_since = None
        finally:
            r.close()
            if r.checkpoint is not None:
                with self._lock:
                    self._checkpoints[(m.uuid, r.shard_id)] = r.checkpoint

    def _journal(self, kind: str, **fields: Any) -> None:
        if self.journal is not None:
            self.journal.record(kind, **fields)
