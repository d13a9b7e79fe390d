"""StartExecution without a `name` on moto's Step Functions interpreter, as AWS answers it.

AWS generates a UUID when the caller gives no execution name (the usual call: a consumer starts
one execution per record). moto 5.2's interpreter backend (`execute_state_machine`) names such an
execution "None", so the second call without a name fails with ExecutionAlreadyExists: a consumer
that works on AWS would fail on every record after its first. The name is filled in before moto
sees the call; a given name is passed through untouched (AWS's idempotency rules then apply).
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.stepfunctions.parser.models import StepFunctionsParserBackend

_ORIGINAL = StepFunctionsParserBackend.start_execution


def _start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
    return _ORIGINAL(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)


def install() -> None:
    """Idempotent: patch once per process."""
    StepFunctionsParserBackend.start_execution = _start_execution  # type: ignore[method-assign]
