"""A running local pipeline: backend, local Lambda runtime, ESM engine and S3 notifications, wired once.

Why one place: the demo, `harness up`, the scenarios and the integration tests all need the same
assembly in the same order (backend first, then what reads it, shut down in reverse), and none
of them should know how the parts fit together.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from harness.backends import Backend, get_backend
from harness.journal import Journal

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class PipelineParts:
    backend: Backend
    journal: Journal
    runtime: Any
    esm: Any
    notifications: Any


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
    ) -> None:
        self.backend = get_backend(backend) if isinstance(backend, str) else backend
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
        from harness.esm import Boto3Destinations, EsmService
        from harness.notifications import NotificationService
        from harness.runtime import LocalRuntime
        from harness.runtime.lambda_api import LambdaApiServer

        self._progress("starting backend")
        self.backend.start()
        info = self.backend.describe()
        self.journal.record("backend_started", backend=info.name, endpoint=info.endpoint_url, details=info.details)
        # Lambda calls made from inside functions must reach this runtime, not the backend's Lambda.
        self.lambda_api = LambdaApiServer(journal=self.journal)
        self.lambda_api.start()
        self.runtime = LocalRuntime(
            base_environment={**self.backend.lambda_environment(),
                              "AWS_ENDPOINT_URL_LAMBDA": self.lambda_api.endpoint_url},
            journal=self.journal,
            region=self.backend.region,
            account_id=self.backend.account_id,
        )
        self.runtime.start()
        self.lambda_api.runtime = self.runtime
        self.esm = EsmService(
            streams_client=self.backend.client("dynamodbstreams"),
            invoker=self.runtime,
            destinations=Boto3Destinations(
                s3=self.backend.client("s3"), sqs=self.backend.client("sqs"), sns=self.backend.client("sns")
            ),
            journal=self.journal,
            region=self.backend.region,
            account_id=self.backend.account_id,
            clock=self._clock,
            settings=self._esm_settings,
        )
        self.notifications = NotificationService(
            s3_client=self.backend.client("s3"),
            invoker=self.runtime,
            journal=self.journal,
            region=self.backend.region,
        )
        return self

    def deploy(self, context: dict[str, object] | None = None, *, start_polling: bool = True) -> Any:
        """Synthesize `infra/` with `context`, apply it, then start polling streams and buckets.

        `start_polling=False` lets a scenario write all its records first, so the ESM sees them
        at once and forms the same batches as `harness simulate` predicts for them.
        """
        from harness.deploy import apply_template
        from harness.deploy.synth import synthesize

        self._progress("synthesizing infra/ (cached by content hash)")
        synth = synthesize(context, project_root=self.project_root)
        self.journal.record("synthesized", stack=synth.stack_name, cached=synth.cached, context=context or {})
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
        if start_polling:
            self.start_polling()
        return self.stack

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

    def inject(self, items: Iterable[dict[str, Any]]) -> list[str]:
        """Write items to the source table (plain JSON values); returns their partition keys in order."""
        from boto3.dynamodb.types import TypeSerializer

        ser = TypeSerializer()
        table = self.output("SourceTableName")
        ddb = self.backend.client("dynamodb")
        keys = []
        for item in items:
            ddb.put_item(TableName=table, Item={k: ser.serialize(v) for k, v in item.items()})
            keys.append(str(item.get("pk")))
            self.journal.record("injected", table=table, pk=item.get("pk"), item=item)
        return keys

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
        self.backend.stop()
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


def run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
