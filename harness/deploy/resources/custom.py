"""Custom resources (`AWS::CloudFormation::CustomResource`, `Custom::*`), run the way CloudFormation
runs them, or stood in for.

CloudFormation invokes the provider named by `ServiceToken` with a Create request whose
`ResponseURL` is a pre-signed S3 URL, and waits for the provider to PUT its answer there. Here
the provider runs on the local runtime when it is a function of this stack, and the ResponseURL
is a loopback endpoint the applier serves for the length of that one invoke. A provider that
cannot answer there (CDK's own handlers send with `https.request` to port 443) is read from what
it returned instead: the invoke's own result, as CDK's Provider framework handlers give it.

A custom resource is housekeeping (log retention, asset copies, lookups), never the stream
path: whatever goes wrong with it becomes a note and a stand-in, never a failed deploy.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.deploy.resources.base import Created, DeployContext, ResourceType
from harness.deploy.resources.standin import stand_in
from harness.notifications.config import function_name_from_arn

CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"
# How long to wait for a PUT the provider began before its invoke returned (a provider sends
# before it returns, so this only covers the last bytes in flight).
_RESPONSE_GRACE_S = 0.2


def is_custom(resource_type: str) -> bool:
    return resource_type == CUSTOM_RESOURCE or resource_type.startswith("Custom::")


class ResponseEndpoint:
    """A loopback HTTP server standing in for the pre-signed ResponseURL: it keeps what is PUT."""

    def __init__(self) -> None:
        received: list[bytes] = []
        arrived = threading.Event()
        self.received = received
        self.arrived = arrived

        class _Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - the http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                received.append(self.rfile.read(length))
                arrived.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT

            def log_message(self, *args: Any) -> None:
                """Quiet: the applier journals the answer."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="custom-resource-response",
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/cloudformation-custom-resource-response/{uuid.uuid4()}"

    def __enter__(self) -> "ResponseEndpoint":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def response(self, wait_s: float) -> dict[str, Any] | None:
        """The last answer PUT, parsed, or None when none came (or it is not a JSON object)."""
        self.arrived.wait(wait_s)
        if not self.received:
            return None
        try:
            answer = json.loads(self.received[-1])
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None


def create_request(ctx: DeployContext, lid: str, resource_type: str, props: dict[str, Any],
                   response_url: str) -> dict[str, Any]:
    """CloudFormation's Create event, field for field."""
    stack_id = ctx.arn("cloudformation", f"stack/{ctx.stack_name}/{uuid.uuid5(uuid.NAMESPACE_URL, ctx.stack_name)}")
    return {
        "RequestType": "Create",
        "ServiceToken": props.get("ServiceToken"),
        "ResponseURL": response_url,
        "StackId": stack_id,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": lid,
        "ResourceType": resource_type,
        "ResourceProperties": props,
    }


def _provider_function(ctx: DeployContext, token: Any) -> str | None:
    """The registered local function a ServiceToken names, or None (an SNS topic, another account...)."""
    if not isinstance(token, str) or ":lambda:" not in token or ":function:" not in token:
        return None
    name = function_name_from_arn(token)
    functions = getattr(ctx.runtime, "functions", None)
    if not callable(functions) or not callable(getattr(ctx.runtime, "invoke", None)):
        return None
    try:
        registered = {spec.name for spec in functions()}
    except Exception:  # noqa: BLE001 - a runtime that cannot list its functions serves none here
        return None
    return name if name in registered else None


def create_custom(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    from harness.deploy.resources.standin import attributes_read

    resource_type = raw["Type"]
    wanted = attributes_read(ctx.template, lid)
    token = props.get("ServiceToken")
    function = _provider_function(ctx, token)
    if function is None:
        return stand_in(ctx, lid, resource_type, wanted,
                        reason=f"is a custom resource whose provider ({token}) is not a function of this stack "
                               "that the local runtime runs; its provider was not called")
    with ResponseEndpoint() as endpoint:
        event = create_request(ctx, lid, resource_type, props, endpoint.url)
        try:
            result = ctx.runtime.invoke(function, json.dumps(event).encode())
        except Exception as exc:  # noqa: BLE001 - housekeeping must never fail the deploy
            return _failed(ctx, lid, resource_type, wanted, function, f"invoke failed: {type(exc).__name__}: {exc}")
        answer = endpoint.response(_RESPONSE_GRACE_S)
    returned = _returned(result.payload)
    if answer is None and result.function_error is None and returned is not None \
            and {"PhysicalResourceId", "Data", "Status"} & set(returned):
        answer = {"Status": "SUCCESS", **returned}  # a Provider framework handler answers by returning
    if answer is None:
        if result.function_error is not None:
            error = result.payload[:300].decode(errors="replace")
            if ":443" in error:  # CDK's handlers PUT to the ResponseURL's host on https's port, whatever its port
                error = ("it could not send its answer: it sends to https on port 443, which the local ResponseURL "
                         f"endpoint cannot serve, so whatever else it did happened ({error})")
            return _failed(ctx, lid, resource_type, wanted, function,
                           f"the provider failed ({result.function_error}): {error}")
        answer = {"Status": "SUCCESS"}
        ctx.note(lid, f"custom resource: provider {function} returned without sending a response to the local "
                      "ResponseURL (CDK's handlers send only to https on port 443); taken as SUCCESS with no Data",
                 resource_type=resource_type, provider=function)
    if answer.get("Status") != "SUCCESS":
        return _failed(ctx, lid, resource_type, wanted, function,
                       f"the provider answered {answer.get('Status')!r}: {answer.get('Reason')}")
    data = answer.get("Data") if isinstance(answer.get("Data"), dict) else {}
    physical_id = str(answer.get("PhysicalResourceId") or f"{ctx.stack_name}-{lid}-{event['RequestId'][:8]}")
    attributes: dict[str, Any] = dict(data)
    missing = sorted(wanted - set(attributes))
    if missing:
        filler = stand_in(ctx, lid, resource_type, set(missing),
                          reason=f"attribute(s) {', '.join(missing)} are read by the template but the provider's "
                                 "response has no such Data keys")
        attributes.update(filler.attributes)
    ctx.note(lid, f"custom resource: created by its provider {function}", resource_type=resource_type,
             provider=function, physical_id=physical_id)
    if ctx.journal is not None:
        ctx.journal.record("custom_resource", stack=ctx.stack_name, logical_id=lid, resource_type=resource_type,
                           provider=function, status="SUCCESS", physical_id=physical_id)
    return Created(physical_id, attributes)


def _returned(payload: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(payload or b"null")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _failed(ctx: DeployContext, lid: str, resource_type: str, wanted: set[str], function: str, why: str) -> Created:
    if ctx.journal is not None:
        ctx.journal.record("custom_resource", stack=ctx.stack_name, logical_id=lid, resource_type=resource_type,
                           provider=function, status="FAILED", reason=why)
    return stand_in(ctx, lid, resource_type, wanted,
                    reason=f"is a custom resource whose provider {function} did not create it ({why}); on AWS the "
                           "stack would roll back, here the stream path does not depend on it")


CUSTOM = ResourceType(CUSTOM_RESOURCE, create_custom, attributes=None, required=("ServiceToken",))
