"""The local Lambda runtime: a Lambda Runtime API server and warm `awslambdaric` workers.

Running AWS's own Python bootstrap makes errors, context objects and logs have AWS's shapes.

    with LocalRuntime(base_environment=backend.lambda_environment(), journal=journal) as rt:
        rt.register(FunctionSpec("consumer", Path("lambdas/consumer"), "app.handler", timeout_s=30))
        result = rt.invoke("consumer", json.dumps(event).encode())

How an invoke ends (all with status_code 200; spec section 1 counts each non-success as a
function error):

| what happened                     | function_error | payload errorType                              |
|-----------------------------------|----------------|------------------------------------------------|
| handler returned                  | None           | (the JSON return value)                        |
| handler raised                    | "Unhandled"    | the exception class, from awslambdaric         |
| ran past timeout_s                | "Unhandled"    | Sandbox.Timedout (worker killed and replaced)  |
| process died (os._exit, segfault) | "Unhandled"    | Runtime.ExitError (worker replaced)            |
| handler module failed to load     | "Unhandled"    | Runtime.ImportModuleError / UserCodeSyntaxError / HandlerNotFound / the import-time exception |

Not-reached errors raise: FunctionNotFound (unknown name), RuntimeNotStarted,
harness.invoke.InvokeServiceError (the runtime was stopped under the invoke).
"""

from harness.runtime.local import LocalRuntime, RuntimeNotStarted
from harness.runtime.spec import FunctionNotFound, FunctionSpec, InvalidFunctionSpec

__all__ = ["FunctionSpec", "FunctionNotFound", "InvalidFunctionSpec", "LocalRuntime", "RuntimeNotStarted"]
