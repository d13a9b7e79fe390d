"""Run a scenario against a stack someone else deployed and whose ESM someone else runs (AWS).

Why a second runner: on AWS there is no engine journal, no local runtime and no virtual clock.
All evidence must come from the backend through boto3, as an operator would see it: the failure
bucket (objects under aws/lambda/ and the handler's archive copies), the projection table, and the
alert topic through an SQS queue subscribed to it. The runner gets only a Backend and the stack's
outputs, so it is exercised for real on the embedded backend (the harness engine standing in for
AWS's ESM) and pointed at AWS unchanged.

Judging cannot compare with the oracle's exact batches (AWS's poller is already running while
items are written, so its batches may be smaller); it checks what holds whatever the batching:
envelope shape and key (harness/failures), isolation (only poison records in failure objects
under bisect), invoke counts, and conservation (every injected record projected or in a failure
object; a record in neither is lost).
"""

from __future__ import annotations

import json
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from harness.backends import Backend
from harness.failures import FailureStore
from harness.scenarios import expect
from harness.scenarios.model import Scenario
from harness.scenarios.observe import FailureObject
from harness.verdict import Check, check

REQUIRED_OUTPUTS = ("SourceTableName", "ProjectionTableName", "FailureBucketName", "EventSourceMappingId")
FAILURE_PREFIX = "aws/lambda/"
ARCHIVE_PREFIX = "archive/"
PROGRESS_EVERY_S = 30.0
MAX_POLL_FAILURES = 3  # consecutive failed polls before the scenario errors
_SER = TypeSerializer()
_DESER = TypeDeserializer()


@dataclass
class RemoteObservation:
    """What an AWS run can see: failure objects, the sample's projection table, alerts, archive copies.

    UNFINISHED for stacks other than the sample: without an engine journal, "processed" is read from
    the sample's projection table (output ProjectionTableName); another stack needs its own evidence
    of processed records before this runner can judge it (the local runner needs none).
    """

    injected: list[dict[str, Any]]
    failure_objects: list[FailureObject]
    processed: list[int]
    projected: dict[str, dict[str, Any]]
    mapping: dict[str, Any]
    alerts: list[dict[str, Any]] = field(default_factory=list)
    archive_keys: list[str] = field(default_factory=list)

    @property
    def pk_of(self) -> dict[int, str]:
        return {i["index"]: i["pk"] for i in self.injected}

    def summary(self) -> dict[str, Any]:
        return {"destination": [o.summary() for o in self.failure_objects],
                "failure_object_keys": [o.key for o in self.failure_objects], "processed": self.processed,
                "projected": sorted(self.projected), "alerts": [{k: a.get(k) for k in ("kind", "key", "condition")}
                                                                for a in self.alerts],
                "archive_keys": self.archive_keys}


def all_good_projected(obs: RemoteObservation, poison: list[int]) -> Check:
    good = sorted(obs.pk_of[i] for i in obs.pk_of if i not in set(poison))
    return check("every good order projected", good, sorted(p for p in obs.projected if p in set(good)))


def poison_not_projected(obs: RemoteObservation, poison: list[int]) -> Check:
    bad = [obs.pk_of[i] for i in poison]
    return check("no poison order projected", [], sorted(p for p in bad if p in obs.projected))


def failure_handler_checks(obs: RemoteObservation) -> list[Check]:
    """The sample's failure handler alerted each failure object once, naming it, and archived it."""
    valid = sorted((o.key, o.condition) for o in obs.failure_objects if not o.error)
    alerted = sorted(a.get("key") for a in obs.alerts if a.get("kind") in ("failure", "auto-replayed"))
    archived = sorted(k for k in obs.archive_keys if not k.startswith("archive/condition=malformed/"))
    return [
        check("failure handler alerted each failure object once, naming its key", [k for k, _ in valid], alerted),
        check("failure handler archived each failure object under archive/condition=<condition>/date=.../",
              sorted(f"archive/condition={cond}/" for _, cond in valid),
              sorted(k.split("date=")[0] for k in archived)),
    ]


class RemoteRunError(RuntimeError):
    """The deployed stack cannot be used for a remote run; the message names the output or call."""


@dataclass(frozen=True)
class RemoteSettings:
    """How long to wait for evidence. AWS's defaults: minutes, polled every few seconds.

    `quiet_s`: once every record is accounted for, keep polling until nothing changed for this
    long, so a late failure object or alert is still seen before judging.
    """

    deadline_s: float = 600.0
    poll_s: float = 5.0
    quiet_s: float = 30.0

    def __post_init__(self) -> None:
        for name in ("deadline_s", "poll_s", "quiet_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"RemoteSettings.{name} must be a positive number of seconds, got {value!r}")


class Deployed:
    """A deployed stack as the remote runner sees it: a backend and the stack's outputs."""

    def __init__(self, backend: Backend, outputs: Mapping[str, str], *, stack_name: str | None = None) -> None:
        missing = [k for k in REQUIRED_OUTPUTS if not outputs.get(k)]
        if missing:
            raise RemoteRunError(f"stack {stack_name or '?'}: outputs {', '.join(missing)} are missing "
                                 f"(have {', '.join(sorted(outputs)) or 'none'}); is it infra/'s PipelineStack?")
        self.backend = backend
        self.outputs = dict(outputs)
        self.stack_name = stack_name

    def output(self, name: str) -> str:
        try:
            return self.outputs[name]
        except KeyError:
            raise KeyError(f"stack output {name!r} not found; have {sorted(self.outputs)}") from None


def stack_outputs(backend: Backend, stack_name: str) -> dict[str, str]:
    """The stack's outputs, as CloudFormation reports them (OutputKey -> OutputValue)."""
    cfn = backend.client("cloudformation")
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as exc:  # noqa: BLE001 - botocore's ClientError and friends: name the stack
        raise RemoteRunError(f"CloudFormation DescribeStacks {stack_name!r} failed: {type(exc).__name__}: {exc}") from None
    if not stacks:
        raise RemoteRunError(f"CloudFormation has no stack {stack_name!r}")
    status = stacks[0].get("StackStatus", "?")
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise RemoteRunError(f"stack {stack_name!r} is {status}, not CREATE_COMPLETE/UPDATE_COMPLETE")
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


class AlertInbox:
    """An SQS queue subscribed (raw delivery) to the stack's alert topic, for one run.

    Why its own queue with a policy: on AWS, SNS may deliver to a queue only when the queue's
    policy allows the topic; the queue and subscription are removed again by `close()`.
    """

    def __init__(self, backend: Backend, topic_arn: str) -> None:
        self.backend = backend
        self.topic_arn = topic_arn
        self.name = f"harness-alerts-{uuid.uuid4().hex[:12]}"
        self.url: str | None = None
        self.subscription_arn: str | None = None
        self.alerts: list[dict[str, Any]] = []

    def open(self) -> "AlertInbox":
        sqs = self.backend.client("sqs")
        self.url = sqs.create_queue(QueueName=self.name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = {"Version": "2012-10-17", "Statement": [{
            "Sid": "AlertTopicMayDeliver", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": self.topic_arn}}}]}
        sqs.set_queue_attributes(QueueUrl=self.url, Attributes={"Policy": json.dumps(policy)})
        sub = self.backend.client("sns").subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"},
            ReturnSubscriptionArn=True)
        self.subscription_arn = sub.get("SubscriptionArn")
        return self

    def drain(self) -> list[dict[str, Any]]:
        """Every alert received so far (messages are deleted from the queue once read)."""
        if self.url is None:
            return self.alerts
        sqs = self.backend.client("sqs")
        while True:
            msgs = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not msgs:
                return self.alerts
            for m in msgs:
                try:
                    body = json.loads(m["Body"])
                except ValueError:
                    body = {"unparsed": m["Body"]}
                self.alerts.append(body if isinstance(body, dict) else {"unparsed": body})
                sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])

    def close(self) -> list[str]:
        """Remove the subscription and the queue; returns what could not be removed (never raises)."""
        problems = []
        if self.subscription_arn and self.subscription_arn.startswith("arn:"):
            try:
                self.backend.client("sns").unsubscribe(SubscriptionArn=self.subscription_arn)
            except Exception as exc:  # noqa: BLE001 - cleanup reports, never hides the verdict
                problems.append(f"SNS unsubscribe {self.subscription_arn}: {exc}")
        if self.url:
            try:
                self.backend.client("sqs").delete_queue(QueueUrl=self.url)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"SQS delete_queue {self.url}: {exc}")
        return problems


@dataclass
class Evidence:
    """What one poll saw; objects are read once (an ESM never rewrites a failure object)."""

    bodies: dict[str, bytes] = field(default_factory=dict)  # new failure-object key -> body
    projected: dict[str, dict[str, Any]] = field(default_factory=dict)  # this run's pk -> projected item
    alerts: list[dict[str, Any]] = field(default_factory=list)
    archive_keys: list[str] = field(default_factory=list)

    def fingerprint(self) -> tuple[Any, ...]:
        return (tuple(sorted(self.bodies)), tuple(sorted(self.projected)), len(self.alerts),
                tuple(self.archive_keys))


MappingReader = Callable[[str], Mapping[str, Any]]
Progress = Callable[[str], None]
ObjectSink = Callable[[Scenario, str, bytes], None]


def lambda_mapping_reader(backend: Backend) -> MappingReader:
    """GetEventSourceMapping through the backend's Lambda API (what AWS answers)."""
    def read(mapping_uuid: str) -> Mapping[str, Any]:
        return backend.client("lambda").get_event_source_mapping(UUID=mapping_uuid)
    return read


class RemoteScenario:
    """One scenario on a deployed stack: snapshot, inject, poll until settled, judge."""

    def __init__(self, scenario: Scenario, deployed: Deployed, *, settings: RemoteSettings | None = None,
                 run_id: str | None = None, progress: Progress | None = None,
                 mapping_reader: MappingReader | None = None, on_object: ObjectSink | None = None,
                 sleep: Callable[[float], None] = time.sleep, now: Callable[[], float] = time.monotonic) -> None:
        self.scenario = scenario
        self.deployed = deployed
        self.settings = settings or RemoteSettings()
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.progress = progress or (lambda msg: None)
        self.mapping_reader = mapping_reader or lambda_mapping_reader(deployed.backend)
        self.on_object = on_object
        self._sleep, self._now = sleep, now
        backend = deployed.backend
        owner = backend.account_id if backend.name == "aws" else None  # ExpectedBucketOwner on a real account
        self.store = FailureStore(backend.client("s3"), deployed.output("FailureBucketName"), expected_owner=owner,
                                  sts_client=backend.client("sts") if owner else None)
        self.items: list[dict[str, Any]] = []
        self.before_failures: set[str] = set()
        self.before_archive: set[str] = set()
        self.inbox: AlertInbox | None = None
        self.evidence = Evidence()
        self.notes: list[str] = []

    # -- driving ------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Before injecting: what is already in the bucket is not this run's; subscribe to alerts."""
        self.before_failures = {o["Key"] for o in self.store.iter_keys(FAILURE_PREFIX)}
        self.before_archive = {o["Key"] for o in self.store.iter_keys(ARCHIVE_PREFIX)}
        topic = self.deployed.outputs.get("AlertTopicArn")
        if topic:
            self.inbox = AlertInbox(self.deployed.backend, topic)  # kept before open(): close() removes a half-made one
            self.inbox.open()
        else:
            self.notes.append("the stack has no AlertTopicArn output: alerts are not checked")

    def inject(self) -> None:
        """Write the scenario's items into the source table (a per-run stack: fresh tables)."""
        self.items = [dict(i) for i in self.scenario.items]
        ddb = self.deployed.backend.client("dynamodb")
        table = self.deployed.output("SourceTableName")
        for item in self.items:
            ddb.put_item(TableName=table, Item={k: _SER.serialize(v) for k, v in item.items()})

    def poll(self) -> Evidence:
        ev = self.evidence
        for summary in self.store.iter_keys(FAILURE_PREFIX):
            key = summary["Key"]
            if key in self.before_failures or key in ev.bodies or key.endswith("/"):
                continue
            body = self.store.read_body(key)
            ev.bodies[key] = body
            if self.on_object is not None:
                self.on_object(self.scenario, key, body)
        mine = {i["pk"] for i in self.items}
        projected: dict[str, dict[str, Any]] = {}
        ddb = self.deployed.backend.client("dynamodb")
        for page in ddb.get_paginator("scan").paginate(TableName=self.deployed.output("ProjectionTableName")):
            for item in page["Items"]:
                plain = {k: _DESER.deserialize(v) for k, v in item.items()}
                if str(plain.get("pk")) in mine:
                    projected[str(plain["pk"])] = plain
        ev.projected = projected
        if self.inbox is not None:
            ev.alerts = [a for a in self.inbox.drain() if a.get("key") in ev.bodies]
        ev.archive_keys = sorted(o["Key"] for o in self.store.iter_keys(ARCHIVE_PREFIX)
                                 if o["Key"] not in self.before_archive)
        return ev

    def outstanding(self, ev: Evidence) -> list[str]:
        """What is still missing before the run can be judged (empty: settled)."""
        pk_index = {i["pk"]: n for n, i in enumerate(self.items)}
        in_failures = {pk for body in ev.bodies.values() for pk in _payload_pks(body)}
        missing = []
        unaccounted = [n for pk, n in pk_index.items() if pk not in ev.projected and pk not in in_failures]
        if unaccounted:
            missing.append(f"records {unaccounted} neither projected nor in a failure object")
        poison_out = [p for p in self.scenario.poison if self.items[p]["pk"] not in in_failures]
        if poison_out:
            missing.append(f"poison records {poison_out} not yet in a failure object")
        if self.inbox is not None:
            alerted = {a.get("key") for a in ev.alerts}
            waiting = [k for k in ev.bodies if k not in alerted]
            if waiting:
                missing.append(f"{len(waiting)} failure object(s) not yet alerted")
            if len(ev.archive_keys) < len(ev.bodies):
                missing.append(f"{len(ev.bodies) - len(ev.archive_keys)} failure object(s) not yet archived")
        return missing

    def wait(self) -> tuple[bool, float, list[str]]:
        """Poll until settled and quiet, or the deadline; (settled, seconds waited, what was missing)."""
        s = self.settings
        began = self._now()
        quiet_since: float | None = None
        last: tuple[Any, ...] | None = None
        missing: list[str] = ["nothing polled yet"]
        last_said, said_at = "", began  # a line when the state changes, else every PROGRESS_EVERY_S
        failures = 0
        while True:
            try:
                ev = self.poll()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - a throttled or flaky read is retried, a persistent one is not
                failures += 1
                if failures >= MAX_POLL_FAILURES:
                    raise
                self.progress(f"{self.scenario.name}: poll failed ({type(exc).__name__}: {exc}); retrying")
                self._sleep(s.poll_s)
                continue
            elapsed = self._now() - began
            missing = self.outstanding(ev)
            fp = ev.fingerprint()
            if missing:
                quiet_since = None
            elif fp != last or quiet_since is None:
                quiet_since = self._now()  # settled now, or something changed: the quiet period restarts
            last = fp
            accounted = len(self.items) - _count_unaccounted(self.items, ev)
            state = (f"{accounted}/{len(self.items)} accounted ({len(ev.projected)} projected, "
                     f"{len(ev.bodies)} failure object(s)), {len(ev.alerts)} alert(s)"
                     + (f"; waiting: {'; '.join(missing)}" if missing else "; settled, waiting for quiet"))
            if state != last_said or self._now() - said_at >= PROGRESS_EVERY_S:
                self.progress(f"{self.scenario.name}: {elapsed:5.0f}s  {state}")
                last_said, said_at = state, self._now()
            if not missing and quiet_since is not None and self._now() - quiet_since >= s.quiet_s:
                return True, elapsed, []
            if elapsed >= s.deadline_s:
                return not missing, elapsed, missing
            self._sleep(s.poll_s)

    def close(self) -> None:
        if self.inbox is not None:
            self.notes.extend(self.inbox.close())

    # -- judging ------------------------------------------------------------------------------

    def mapping(self) -> dict[str, Any] | None:
        uuid_ = self.deployed.output("EventSourceMappingId")
        try:
            return dict(self.mapping_reader(uuid_))
        except Exception as exc:  # noqa: BLE001 - a judge without the mapping still judges the evidence
            self.notes.append(f"event source mapping {uuid_} not readable ({type(exc).__name__}: {exc}); "
                              "its configuration is not compared with the scenario's context")
            return None

    def observation(self) -> tuple[RemoteObservation, list[str]]:
        """The evidence as an Observation (invocations unknown: AWS keeps no journal); plus the pks
        found in failure objects that this run never injected."""
        ev = self.evidence
        injected = [{"index": n, "pk": i["pk"], "item": i} for n, i in enumerate(self.items)]
        index_of = {i["pk"]: i["index"] for i in injected}
        foreign: list[str] = []
        objects = []
        for key in sorted(ev.bodies):
            body = ev.bodies[key]
            listed = self.store._parse(key, _epoch(), len(body), body)
            try:
                top = list(json.loads(body))
            except (ValueError, TypeError):
                top = []
            if listed.record is None:
                objects.append(FailureObject(key=key, records=[], error=listed.error, top_level_keys=top))
                continue
            rec = listed.record
            env, info = rec.envelope, rec.envelope.DDBStreamBatchInfo
            idx = []
            for r in rec.records:
                pk = _record_pk(r)
                if pk in index_of:
                    idx.append(index_of[pk])
                else:
                    foreign.append(f"{key}: {pk}")
            objects.append(FailureObject(
                key=key, records=idx, condition=rec.condition,
                approximate_invoke_count=env.requestContext.approximateInvokeCount,
                function_error=env.responseContext.functionError if env.responseContext else None,
                has_response_context=env.responseContext is not None, batch_size=info.batchSize,
                start_sequence=info.startSequenceNumber, end_sequence=info.endSequenceNumber,
                payload_is_string=isinstance(env.payload, str) and not rec.payload_was_object,
                top_level_keys=top))
        processed = sorted(index_of[pk] for pk in ev.projected)
        mapping = self.mapping() or {}
        mapping_uuid = self.deployed.output("EventSourceMappingId")
        mapping = {"UUID": mapping_uuid, **mapping}
        obs = RemoteObservation(injected=injected, failure_objects=objects, processed=processed,
                                projected=dict(ev.projected), mapping=mapping, alerts=list(ev.alerts),
                                archive_keys=list(ev.archive_keys))
        return obs, foreign


def _epoch() -> Any:
    import datetime as dt

    return dt.datetime.fromtimestamp(0, dt.timezone.utc)


def _record_pk(record: Mapping[str, Any]) -> str | None:
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    pk = keys.get("pk") if isinstance(keys, Mapping) else None
    return pk.get("S") if isinstance(pk, Mapping) else None


def _payload_pks(body: bytes) -> list[str]:
    """The item keys a failure object holds (empty when it cannot be read as one)."""
    try:
        env = json.loads(body)
        payload = env.get("payload")
        payload = json.loads(payload) if isinstance(payload, str) else payload
        return [pk for r in payload.get("Records", []) if (pk := _record_pk(r))]
    except (ValueError, TypeError, AttributeError):
        return []


def _count_unaccounted(items: list[dict[str, Any]], ev: Evidence) -> int:
    in_failures = {pk for body in ev.bodies.values() for pk in _payload_pks(body)}
    return sum(1 for i in items if i["pk"] not in ev.projected and i["pk"] not in in_failures)


# -- the judge ----------------------------------------------------------------------------------


def _flag(context: Mapping[str, Any], key: str, default: bool) -> bool:
    value = context.get(key, default)
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def remote_conservation(obs: RemoteObservation) -> dict[str, Any]:
    """Every injected record is projected or in a failure object; one in neither is lost.

    A record may be in both (AWS writes the whole failed batch or suffix, including good records
    the consumer had already projected; at-least-once). `processed` counts records only projected.
    What AWS dropped after a failed destination write is invisible here, so it counts as lost.
    """
    projected = set(obs.processed)
    in_failures = {i for o in obs.failure_objects for i in o.records}
    lost = [i for i in obs.injected if i["index"] not in projected | in_failures]
    return {
        "injected": len(obs.injected),
        "processed": len(projected - in_failures),
        "filtered": 0,
        "in_failure_records": len(in_failures),
        "dropped": 0,
        "lost": len(lost),
        "lost_records": [f"{i['pk']} (index {i['index']}): neither projected nor in a failure object" for i in lost],
        "projected_and_in_failure_records": len(projected & in_failures),
    }


def remote_checks(scenario: Scenario, obs: RemoteObservation, foreign: list[str], *, settled: bool,
                  missing: list[str], alerts_observed: bool) -> list[Check]:
    """What holds on AWS whatever its batching, derived from the scenario's context and poison."""
    ctx = scenario.context
    poison = sorted(scenario.poison)
    bisect = _flag(ctx, "bisect", True)
    partial = _flag(ctx, "reportBatchItemFailures", False)
    retries = int(ctx.get("retryAttempts", 2))
    objs = sorted(obs.failure_objects, key=lambda o: o.records)
    checks = [check("settled before the deadline (every record accounted, each poison in a failure object"
                    + (", alerted and archived" if alerts_observed else "") + ")", [], missing)]
    if obs.mapping.get("BatchSize") is not None:
        want = {"BatchSize": ctx.get("batchSize", 10), "MaximumRetryAttempts": retries,
                "BisectBatchOnFunctionError": bisect,
                "FunctionResponseTypes": ["ReportBatchItemFailures"] if partial else []}
        got = {k: obs.mapping.get(k) for k in want}
        got["FunctionResponseTypes"] = list(got["FunctionResponseTypes"] or [])
        checks.append(check("the deployed event source mapping has the scenario's settings", want, got, spec="1"))
    bad = [f"{o.key}: {o.error}" for o in obs.failure_objects if o.error]
    checks.append(check("every failure object is a valid ESM failure record", [], bad, spec="3.2"))
    mapping_uuid = obs.mapping.get("UUID", "?")
    checks.append(check("failure object keys use aws/lambda/<ESM UUID>/<shard>/...", [],
                        [o.key for o in obs.failure_objects if not o.key.startswith(f"aws/lambda/{mapping_uuid}/")],
                        spec="4"))
    checks.append(check("failure object payload is a JSON string", [],
                        [o.key for o in obs.failure_objects if not o.error and not o.payload_is_string], spec="3.5"))
    checks.append(check("failure object keys are written alphabetically sorted, as AWS does", [],
                        [o.key for o in obs.failure_objects if o.top_level_keys != sorted(o.top_level_keys)],
                        spec="3.2"))
    checks.append(check("failure objects hold only records this run injected", [], foreign, spec="3.2"))
    in_failures = {i for o in objs for i in o.records}
    checks.append(check("every poison record is in a failure object", poison,
                        sorted(p for p in poison if p in in_failures), spec="1 (end of retries)"))
    checks.append(poison_not_projected(obs, poison))
    checks.append(check("every failure object holds a poison record (a good record never exhausts retries)", [],
                        [o.key for o in objs if not o.error and not set(o.records) & set(poison)], spec="1, 2.1"))
    if bisect and not partial:
        checks.extend(expect.isolated(obs, poison))
        checks.append(all_good_projected(obs, poison))
    elif partial:
        checks.append(check("each failure object starts at a failed record (checkpoint at the lowest failed "
                            "sequence number; only the suffix is retried)", [],
                            [o.key for o in objs if o.records and o.records[0] not in poison], spec="0.3, 2.2"))
        checks.append(all_good_projected(obs, poison))
    else:
        size = int(ctx.get("batchSize", 10))
        checks.append(check(f"without bisect a failure object is a whole batch (1..{size} records, batchSize = "
                            "records)", [], [o.key for o in objs if not o.error and not (
                                1 <= len(o.records) <= size and o.batch_size == len(o.records))], spec="9.1, 3.2"))
    if retries >= 0:
        checks.extend(expect.envelope(obs, condition="RetryAttemptsExhausted", invoke_count=retries + 1,
                                      function_error=None if partial else "Unhandled"))
    if alerts_observed:
        checks.extend(failure_handler_checks(obs))
    cons = remote_conservation(obs)
    checks.append(check("conservation: every injected record projected or in a failure object (names the lost)",
                        [], cons["lost_records"], spec="1"))
    return checks


def _check_dict(c: Check) -> dict[str, Any]:
    return json.loads(json.dumps(c.as_dict(), default=str))


def run_remote_scenario(scenario: Scenario, deployed: Deployed, *, settings: RemoteSettings | None = None,
                        progress: Progress | None = None, mapping_reader: MappingReader | None = None,
                        on_object: ObjectSink | None = None, run_id: str | None = None,
                        sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Inject, wait for the evidence, judge. Never raises for a scenario problem: verdict "error"
    says why. Refuses (ValueError) a scenario not marked for AWS, naming why it cannot run there."""
    why = scenario.aws_exclusion()
    if why:
        raise ValueError(f"scenario {scenario.name!r} cannot run against a deployed stack: {why}")
    began = time.perf_counter()
    result: dict[str, Any] = {
        "name": scenario.name, "title": scenario.title, "description": scenario.description,
        "spec_sections": list(scenario.spec_sections), "verdict": "error", "wall_s": 0.0, "checks": [],
        "expected": {"context": dict(scenario.context), "mutation": None, "poison": list(scenario.poison),
                     "count": len(scenario.items)},
        "observed": {}, "conservation": {}, "journal": [], "error": None,
        "remote": {"stack": deployed.stack_name, "backend": deployed.backend.name, "notes": []},
    }
    run: RemoteScenario | None = None
    try:
        run = RemoteScenario(scenario, deployed, settings=settings, progress=progress, mapping_reader=mapping_reader,
                             on_object=on_object, run_id=run_id, sleep=sleep)
        run.prepare()
        run.inject()
        settled, waited, missing = run.wait()
        obs, foreign = run.observation()
        checks = remote_checks(scenario, obs, foreign, settled=settled, missing=missing,
                               alerts_observed=run.inbox is not None)
        cons = remote_conservation(obs)
        summary = obs.summary()
        summary.pop("invocations", None)  # unobservable on AWS: no journal, and an empty list would mislead
        result.update(verdict="pass" if all(c.passed for c in checks) else "fail",
                      checks=[_check_dict(c) for c in checks], observed=summary, conservation=cons)
        result["expected"]["mapping"] = {k: obs.mapping.get(k) for k in (
            "BatchSize", "MaximumRetryAttempts", "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds",
            "FunctionResponseTypes")}
        result["remote"]["waited_s"] = round(waited, 1)
        result["remote"]["settled"] = settled
    except Exception as exc:  # noqa: BLE001 - the verdict says what broke, the suite goes on
        result["error"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        result["verdict"] = "error"
    finally:
        if run is not None:
            run.close()
            result["remote"]["notes"] = list(run.notes)
    result["wall_s"] = round(time.perf_counter() - began, 3)
    return result
