"""StartExecution without a `name` on moto's Step Functions interpreter, as AWS answers it.

AWS generates a UUID when the caller gives no execution name (the usual call: a consumer starts
one execution per record). moto 5.2's interpreter backend (`execute_state_machine`) names such an
execution "None", so the second call without a name fails with ExecutionAlreadyExists: a consumer
that works on AWS would fail on every record after its first. The name is filled in before moto
sees the call; a given name is passed through untouched (AWS's idempotency rules then apply).

moto's interpreter takes about a second to import (its ASL parser), and most stacks have no state
machine: the patch is applied when moto first imports that module, not when the backend starts.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
import uuid
from typing import Any

MODULE = "moto.stepfunctions.parser.models"
_lock = threading.Lock()
_hooked = False


def _patch(module: Any) -> None:
    backend = module.StepFunctionsParserBackend
    if getattr(backend.start_execution, "_shardproof_named", False):
        return
    original = backend.start_execution

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    start_execution._shardproof_named = True  # type: ignore[attr-defined]
    backend.start_execution = start_execution


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: for MODULE it asks the other finders, then runs the patch right after
    the module's own code, before anyone can call it."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_patch(module: Any) -> None:
            exec_module(module)
            _patch(module)

        loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Idempotent: patch now if moto's interpreter is loaded, else when it first is."""
    global _hooked
    with _lock:
        if MODULE in sys.modules:
            _patch(sys.modules[MODULE])
        elif not _hooked:
            sys.meta_path.insert(0, _PatchOnImport())
            _hooked = True
