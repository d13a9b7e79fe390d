"""The local Lambda runtime: a Lambda Runtime API server and warm workers running AWS's own
runtime interface clients (`awslambdaric` for python3.x, npm's `aws-lambda-ric` for nodejs18.x-24.x),
each on the version the function's Runtime names (harness/runtime/languages, docs/runtime.md).

Running AWS's own bootstraps makes errors, context objects and logs have AWS's shapes.

    with LocalRuntime(base_environment=backend.lambda_environment(), journal=journal) as rt:
        rt.register(FunctionSpec("consumer", Path("lambdas/consumer"), "app.handler", timeout_s=30))
        result = rt.invoke("consumer", json.dumps(event).encode())

How an invoke ends (all with status_code 200; spec section 1 counts each non-success as a
function error):

| what happened                     | function_error | payload errorType                              |
|-----------------------------------|----------------|------------------------------------------------|
| handler returned                  | None           | (the JSON return value)                        |
| handler raised / rejected         | "Unhandled"    | the exception class, from the RIC              |
| ran past timeout_s                | "Unhandled"    | Sandbox.Timedout (worker killed and replaced)  |
| process died (os._exit, segfault) | "Unhandled"    | Runtime.ExitError (worker replaced)            |
| handler module failed to load     | "Unhandled"    | Runtime.ImportModuleError / UserCodeSyntaxError / HandlerNotFound / the import-time exception |
| unhandled rejection (Node)        | "Unhandled"    | Runtime.UnhandledPromiseRejection (RIC 3.x, nodejs18-22.x) / Runtime.ExitError (RIC 4.x, nodejs24.x) |

Not-reached errors raise: FunctionNotFound (unknown name), RuntimeNotStarted,
harness.invoke.InvokeServiceError (the runtime was stopped under the invoke).
"""

from harness.runtime.local import LocalRuntime, RuntimeNotStarted
from harness.runtime.spec import FunctionNotFound, FunctionSpec, InvalidFunctionSpec

__all__ = ["FunctionSpec", "FunctionNotFound", "InvalidFunctionSpec", "LocalRuntime", "RuntimeNotStarted"]
