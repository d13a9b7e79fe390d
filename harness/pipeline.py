"""A running pipeline: backend, Lambda runtime, ESM and S3 notifications, wired once for the backend.

Why one place: the demo, `shardproof up`, the scenarios and the integration tests all need the same
assembly in the same order (backend first, then what reads it, shut down in reverse), and none
of them should know how the parts fit together.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from harness.backends import Backend, get_backend
from harness.journal import Journal

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ESM_CHOICES = ("harness", "native")


class PipelineError(ValueError):
    """A pipeline that cannot be assembled: the message names the backend, ESM or factory at fault."""


@dataclass(frozen=True)
class Wiring:
    """Which parts a pipeline builds: where Lambda code runs and whose ESM reads the stream.

    `runtime`: "local" (awslambdaric workers on this machine) or "remote" (the backend's Lambda).
    `esm`: "harness" (the spec-faithful engine) or "native" (the backend's own mappings).
    `lambda_api`: serve Invoke locally for functions that call Lambda (only with a local runtime:
    remote functions reach the backend's Lambda directly).
    """

    runtime: str
    esm: str
    lambda_api: bool


def choose_wiring(backend_name: str, esm: str = "harness") -> Wiring:
    """The parts for a backend. Refuses what must never run: moto's own ESM or Lambda (they need
    Docker and would consume the stream), and a local deploy to AWS (that is `cdk deploy`)."""
    if esm not in ESM_CHOICES:
        raise PipelineError(f"esm must be one of {', '.join(ESM_CHOICES)}, got {esm!r}")
    if backend_name == "embedded":
        if esm == "native":
            raise PipelineError("esm='native' needs a backend with its own event source mappings (localstack); "
                                "the embedded backend's (moto's) would need Docker and consume the stream")
        return Wiring(runtime="local", esm="harness", lambda_api=True)
    if backend_name in ("localstack", "floci"):  # endpoint emulators with a Lambda that runs code
        return Wiring(runtime="remote", esm=esm, lambda_api=False)
    if backend_name == "aws":
        raise PipelineError("LocalPipeline does not deploy to AWS: use `shardproof deploy --backend aws` (cdk deploy)")
    raise PipelineError(f"LocalPipeline cannot wire backend {backend_name!r}; it supports embedded, localstack and floci")


def _lambda_api(pipe: "LocalPipeline") -> Any:
    from harness.runtime.lambda_api import LambdaApiServer

    return LambdaApiServer(journal=pipe.journal)


def _local_runtime(pipe: "LocalPipeline") -> Any:
    from harness.runtime import LocalRuntime

    env = pipe.backend.lambda_environment()
    if pipe.lambda_api is not None:
        env = {**env, "AWS_ENDPOINT_URL_LAMBDA": pipe.lambda_api.endpoint_url}
    return LocalRuntime(base_environment=env, journal=pipe.journal, region=pipe.backend.region,
                        account_id=pipe.backend.account_id)


def _remote_runtime(pipe: "LocalPipeline") -> Any:
    # The stand-in role is only the default: the applier passes each function's own template
    # role (FunctionSpec.role_arn), and RemoteLambdaRuntime uses that when it is set.
    from harness.backends.remote_lambda import RemoteLambdaRuntime, ensure_lambda_role

    role = ensure_lambda_role(pipe.backend.client("iam"))
    return RemoteLambdaRuntime(pipe.backend.client("lambda"), role_arn=role, journal=pipe.journal,
                               account_id=pipe.backend.account_id)


def _harness_esm(pipe: "LocalPipeline") -> Any:
    from harness.esm import Boto3Destinations, EsmService

    backend = pipe.backend

    def role_of(function_name: str) -> str | None:
        # Kinesis records carry the function's execution role (invokeIdentityArn, spec 10).
        specs = pipe.runtime.functions() if hasattr(pipe.runtime, "functions") else []
        return next((f.role_arn for f in specs if f.name == function_name), None)

    return EsmService(
        client=backend.client,  # 'dynamodbstreams' or 'kinesis', by the mapping's stream kind
        role_of=role_of,
        invoker=pipe.runtime,
        destinations=Boto3Destinations(s3=backend.client("s3"), sqs=backend.client("sqs"), sns=backend.client("sns")),
        journal=pipe.journal,
        region=backend.region,
        account_id=backend.account_id,
        clock=pipe._clock,
        settings=pipe._esm_settings,
    )


def _native_esm(pipe: "LocalPipeline") -> Any:
    from harness.esm.native import NativeEsm

    return NativeEsm(pipe.backend.client("lambda"), pipe.journal,
                     streams_client=pipe.backend.client("dynamodbstreams"))


def _notifications(pipe: "LocalPipeline") -> Any:
    # Also on LocalStack: the applier never puts Lambda targets on a bucket, so S3 -> Lambda is
    # only ever delivered by this service (no double delivery by the backend's own notifications).
    from harness.notifications import NotificationService

    return NotificationService(s3_client=pipe.backend.client("s3"), invoker=pipe.runtime, journal=pipe.journal,
                               region=pipe.backend.region)


DEFAULT_FACTORIES: dict[str, Callable[["LocalPipeline"], Any]] = {
    "lambda_api": _lambda_api,
    "local_runtime": _local_runtime,
    "remote_runtime": _remote_runtime,
    "harness_esm": _harness_esm,
    "native_esm": _native_esm,
    "notifications": _notifications,
}


class LocalPipeline:
    """Context manager: start everything on enter, stop it all (in reverse) on exit."""

    def __init__(
        self,
        backend: str | Backend = "embedded",
        *,
        journal_path: Path | None = None,
        project_root: Path = PROJECT_ROOT,
        progress: Callable[[str], None] | None = None,
        clock: Any = None,
        esm_settings: Any = None,
        esm: str = "harness",
        factories: Mapping[str, Callable[["LocalPipeline"], Any]] | None = None,
    ) -> None:
        """`esm="native"` runs the backend's own event source mapping (LocalStack), to measure it.

        `factories` replaces how a part is built (keys of DEFAULT_FACTORIES); tests use it to
        check the wiring without Docker.
        """
        self.backend = get_backend(backend) if isinstance(backend, str) else backend
        self.wiring = choose_wiring(self.backend.name, esm)
        unknown = set(factories or {}) - set(DEFAULT_FACTORIES)
        if unknown:
            raise PipelineError(f"unknown factory key(s) {', '.join(sorted(unknown))}; "
                                f"known: {', '.join(sorted(DEFAULT_FACTORIES))}")
        self._factories = dict(factories or {})
        self.journal = Journal(journal_path)
        self.project_root = project_root
        self.stack: Any = None
        self._progress = progress or (lambda msg: None)
        self.runtime: Any = None
        self.esm: Any = None
        self.notifications: Any = None
        self.lambda_api: Any = None
        self._clock = clock
        self._esm_settings = esm_settings
        self._polling = False

    def start(self) -> "LocalPipeline":
        self._progress("starting backend")
        self.backend.start()
        info = self.backend.describe()
        self.journal.record("backend_started", backend=info.name, endpoint=info.endpoint_url, details=info.details,
                            runtime=self.wiring.runtime, esm=self.wiring.esm)
        build = {**DEFAULT_FACTORIES, **self._factories}
        if self.wiring.lambda_api:
            # Lambda calls made from inside functions must reach this runtime, not the backend's Lambda.
            self.lambda_api = build["lambda_api"](self)
            self.lambda_api.start()
        self.runtime = build[f"{self.wiring.runtime}_runtime"](self)
        self.runtime.start()
        if self.lambda_api is not None:
            self.lambda_api.runtime = self.runtime
        self.esm = build[f"{self.wiring.esm}_esm"](self)
        self.notifications = build["notifications"](self)
        return self

    def deploy(self, context: dict[str, object] | None = None, *, source: Any = None,
               start_polling: bool = True) -> Any:
        """Synthesize the stack source with `context` (default: the sample's `infra/`), apply it, then
        start polling streams and buckets.

        `start_polling=False` lets a scenario write all its records first, so the ESM sees them
        at once and forms the same batches as `shardproof simulate` predicts for them.
        """
        if source is None:
            from harness.deploy.synth import synthesize

            self._progress("synthesizing infra/ (cached by content hash)")
            synth = synthesize(context, project_root=self.project_root)
        else:
            self._progress(f"synthesizing {source.label()} (cached by content hash)")
            synth = source.synthesize(context)
        self.journal.record("synthesized", stack=synth.stack_name, cached=synth.cached, context=context or {})
        return self.apply(synth, start_polling=start_polling)

    def apply(self, synth: Any, *, start_polling: bool = True) -> Any:
        """Deploy a synthesized stack (harness.deploy.synth.SynthResult) to this pipeline's backend."""
        from harness.deploy import apply_template

        self._progress(f"deploying {synth.stack_name} to the {self.backend.name} backend")
        self.stack = apply_template(
            synth.template,
            stack_name=synth.stack_name,
            assembly_dir=synth.assembly_dir,
            backend=self.backend,
            runtime=self.runtime,
            esm=self.esm,
            notifications=self.notifications,
            journal=self.journal,
        )
        self._subscribe_failure_inboxes()
        if start_polling:
            self.start_polling()
        return self.stack

    def _subscribe_failure_inboxes(self) -> None:
        """A queue of the harness's own on each SNS on-failure destination, subscribed before anything
        is written: SNS keeps nothing for later readers, and `failures list --topic` reads it."""
        from botocore.exceptions import BotoCoreError, ClientError

        from harness.failures.queue import subscribe_failure_inbox

        for arn in failure_destinations(self.stack, self.esm):
            if arn.split(":")[2:3] != ["sns"]:
                continue
            try:
                url = subscribe_failure_inbox(self.backend.client("sqs"), self.backend.client("sns"), arn)
            except (ClientError, BotoCoreError) as exc:
                self.journal.record("stack_note", note=f"could not subscribe a failure inbox to {arn}: {exc}")
                continue
            self.journal.record("failure_inbox", topic=arn, queue_url=url)

    def start_polling(self) -> None:
        if not self._polling:
            self.esm.start()
            self.notifications.start()
            self._polling = True

    def output(self, name: str) -> str:
        if self.stack is None:
            raise RuntimeError("nothing deployed yet: call deploy() first")
        try:
            return self.stack.outputs[name]
        except KeyError:
            raise KeyError(f"stack output {name!r} not found; have {sorted(self.stack.outputs)}") from None

    def inject(self, items: Iterable[dict[str, Any]], *, table: str) -> list[str]:
        """Write plain JSON items to `table` in order (checked against its key schema; journaled as
        `injected`); returns each item's key as canonical text."""
        from harness.streams import StreamAt
        from harness.streams.dynamodb import DynamoDBWriter

        desc = self.backend.client("dynamodb").describe_table(TableName=table)["Table"]
        schema = [k["AttributeName"] for k in sorted(desc["KeySchema"], key=lambda k: k["KeyType"] != "HASH")]
        writer = DynamoDBWriter(key_schema=schema)
        writer.bind(self, StreamAt(stream_name=table, stream_arn=desc.get("LatestStreamArn", "")))
        writes = writer.prepare(list(items), where=f"inject into {table}")
        writer.write(writes)
        return [w.key for w in writes]

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until the ESM has read every shard to its end and every notification is delivered.

        Notifications can only follow destination writes, and a notification can trigger nothing
        that feeds the stream again here, so draining ESM then notifications is enough.
        """
        deadline = time.monotonic() + timeout
        self.esm.drain(timeout=max(0.1, deadline - time.monotonic()))
        self.notifications.drain(timeout=max(0.1, deadline - time.monotonic()))

    def stop(self) -> None:
        for part, name in ((self.notifications, "notifications"), (self.esm, "esm"), (self.lambda_api, "lambda_api"),
                           (self.runtime, "runtime")):
            if part is not None:
                try:
                    part.stop()
                except Exception as exc:  # keep stopping the rest; say what failed
                    self.journal.record("stop_error", part=name, error=repr(exc))
        try:
            self.backend.stop()
        except Exception as exc:  # still raised, but the journal says so and its file is closed
            self.journal.record("stop_error", part="backend", error=repr(exc))
            raise
        finally:
            self.journal.record("stopped")
            self.journal.close()

    def __enter__(self) -> "LocalPipeline":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def failure_destinations(stack: Any, esm: Any) -> list[str]:
    """The on-failure destination ARNs (S3, SQS or SNS) of `stack`'s event source mappings, each once."""
    uuids = set(stack.mappings.values())
    found: dict[str, None] = {}
    for mapping in esm.list_event_source_mappings():
        if mapping.get("UUID") in uuids:
            arn = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
            if isinstance(arn, str) and arn.startswith("arn:"):
                found.setdefault(arn)
    return list(found)


def run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
