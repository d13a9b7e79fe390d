"""The local Lambda runtime: a Lambda Runtime API server and warm `awslambdaric` workers.

Running AWS's own Python bootstrap makes errors, context objects and logs have AWS's shapes.
"""

from harness.runtime.local import LocalRuntime, RuntimeNotStarted
from harness.runtime.spec import FunctionNotFound, FunctionSpec, InvalidFunctionSpec

__all__ = ["FunctionSpec", "FunctionNotFound", "InvalidFunctionSpec", "LocalRuntime", "RuntimeNotStarted"]
