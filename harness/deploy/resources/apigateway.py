"""API Gateway REST APIs (AWS::ApiGateway::*) and HTTP/WebSocket APIs (AWS::ApiGatewayV2::*) on the
backend's API Gateway, so the API a SAM `Events: Api` or a CDK `LambdaRestApi` declares exists
with its id, root resource, routes and stages.

Requests to the API do not reach the local runtime (on the embedded backend moto would run the
integration's function in its own Lambda): an API is the way in for a producer, never the stream
path. So a piece the backend rejects (an OpenAPI body moto cannot import, an integration type it
does not know) is noted and stood in for rather than failing the deploy.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any, Callable

from botocore.exceptions import ClientError

from harness.deploy.resources.base import Created, DeployContext, ResourceType
from harness.deploy.resources.standin import attributes_read, stand_in

REST_API = "AWS::ApiGateway::RestApi"
RESOURCE = "AWS::ApiGateway::Resource"
METHOD = "AWS::ApiGateway::Method"
DEPLOYMENT = "AWS::ApiGateway::Deployment"
STAGE = "AWS::ApiGateway::Stage"
HTTP_API = "AWS::ApiGatewayV2::Api"
HTTP_ROUTE = "AWS::ApiGatewayV2::Route"
HTTP_INTEGRATION = "AWS::ApiGatewayV2::Integration"
HTTP_STAGE = "AWS::ApiGatewayV2::Stage"
HTTP_DEPLOYMENT = "AWS::ApiGatewayV2::Deployment"


def _or_stand_in(ctx: DeployContext, lid: str, rtype: str, create: Callable[[], Created]) -> Created:
    """`create()`, or a stand-in with the backend's refusal as the reason: an API never blocks the stream path."""
    try:
        return create()
    except (ClientError, KeyError, ValueError) as exc:
        return stand_in(ctx, lid, rtype, attributes_read(ctx.template, lid),
                        reason=f"was refused by the backend ({type(exc).__name__}: {exc}); stood in for instead")


def _tags(value: Any) -> dict[str, str]:
    if isinstance(value, list):
        return {str(t["Key"]): str(t["Value"]) for t in value if isinstance(t, dict) and "Key" in t}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


# -- REST APIs --------------------------------------------------------------------------------------


def create_rest_api(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    def create() -> Created:
        client = ctx.client("apigateway")
        body = props.get("Body")
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                body = None  # a YAML body: the API is created without its routes (noted below)
        title = body.get("info", {}).get("title") if isinstance(body, dict) else None
        name = str(props.get("Name") or title or f"{ctx.stack_name}-{lid}")
        params: dict[str, Any] = {"name": name}
        for key, api_key in (("Description", "description"), ("BinaryMediaTypes", "binaryMediaTypes"),
                             ("ApiKeySourceType", "apiKeySourceType")):
            if key in props:
                params[api_key] = props[key]
        if props.get("EndpointConfiguration", {}).get("Types"):
            params["endpointConfiguration"] = {"types": props["EndpointConfiguration"]["Types"]}
        if props.get("Tags"):
            params["tags"] = _tags(props["Tags"])
        api = client.create_rest_api(**params)
        if isinstance(body, dict):
            try:
                _import_paths(client, api["id"], body)
            except (ClientError, AttributeError, TypeError) as exc:
                ctx.note(lid, f"{REST_API} Body not fully imported ({type(exc).__name__}: {exc}): the API exists "
                              "without some of its routes", property="Body")
        elif "Body" in props or "BodyS3Location" in props:
            ctx.note(lid, f"{REST_API} Body/BodyS3Location not imported: the API exists without its routes",
                     property="Body")
        root = next((r["id"] for r in client.get_resources(restApiId=api["id"])["items"] if r.get("path") == "/"), "")
        ctx.ignore_unhandled(lid, REST_API, props, {"Name", "Body", "BodyS3Location", "Description",
                                                    "BinaryMediaTypes", "ApiKeySourceType", "EndpointConfiguration",
                                                    "Tags", "Parameters", "FailOnWarnings", "Mode"})
        return Created(api["id"], {"RestApiId": api["id"], "RootResourceId": root})

    return _or_stand_in(ctx, lid, REST_API, create)


_VERBS = ("get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method")


def _import_paths(client: Any, api_id: str, body: dict[str, Any]) -> None:
    """The body's paths as resources, methods and integrations (Swagger 2.0, as SAM writes it, or
    OpenAPI 3: moto's own import takes only the latter)."""
    ids = {r["path"]: r["id"] for r in client.get_resources(restApiId=api_id)["items"]}
    for path, operations in sorted((body.get("paths") or {}).items()):
        parts = [p for p in str(path).split("/") if p]
        current = ""
        for part in parts:
            parent, current = ids[current or "/"], f"{current}/{part}"
            if current not in ids:
                ids[current] = client.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"]
        resource = ids[current or "/"]
        for verb, operation in (operations or {}).items():
            if verb.lower() not in _VERBS or not isinstance(operation, dict):
                continue
            method = "ANY" if verb.lower() == "x-amazon-apigateway-any-method" else verb.upper()
            client.put_method(restApiId=api_id, resourceId=resource, httpMethod=method, authorizationType="NONE")
            integration = operation.get("x-amazon-apigateway-integration")
            if isinstance(integration, dict) and "type" in integration:
                params = {"restApiId": api_id, "resourceId": resource, "httpMethod": method,
                          "type": str(integration["type"]).upper()}
                if "uri" in integration:
                    params["uri"] = integration["uri"]
                if "httpMethod" in integration:
                    params["integrationHttpMethod"] = integration["httpMethod"]
                client.put_integration(**params)


def create_resource(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    def create() -> Created:
        made = ctx.client("apigateway").create_resource(restApiId=props["RestApiId"], parentId=props["ParentId"],
                                                        pathPart=props["PathPart"])
        return Created(made["id"], {"ResourceId": made["id"]})

    return _or_stand_in(ctx, lid, RESOURCE, create)


def create_method(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    def create() -> Created:
        client = ctx.client("apigateway")
        api, resource, verb = props["RestApiId"], props["ResourceId"], props["HttpMethod"]
        params: dict[str, Any] = {"restApiId": api, "resourceId": resource, "httpMethod": verb,
                                  "authorizationType": props.get("AuthorizationType", "NONE")}
        if "AuthorizerId" in props:
            params["authorizerId"] = props["AuthorizerId"]
        if "ApiKeyRequired" in props:
            params["apiKeyRequired"] = bool(props["ApiKeyRequired"])
        client.put_method(**params)
        integration = props.get("Integration")
        if isinstance(integration, dict) and "Type" in integration:
            iparams: dict[str, Any] = {"restApiId": api, "resourceId": resource, "httpMethod": verb,
                                       "type": integration["Type"]}
            if "Uri" in integration:
                iparams["uri"] = integration["Uri"]
            if "IntegrationHttpMethod" in integration:
                iparams["integrationHttpMethod"] = integration["IntegrationHttpMethod"]
            client.put_integration(**iparams)
        method_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(10))
        return Created(method_id, {})

    return _or_stand_in(ctx, lid, METHOD, create)


def create_deployment(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    def create() -> Created:
        params: dict[str, Any] = {"restApiId": props["RestApiId"]}
        if "StageName" in props:
            params["stageName"] = props["StageName"]
        if "Description" in props:
            params["description"] = props["Description"]
        made = ctx.client("apigateway").create_deployment(**params)
        ctx.ignore_unhandled(lid, DEPLOYMENT, props, {"RestApiId", "StageName", "Description"})
        return Created(made["id"], {"DeploymentId": made["id"]})

    return _or_stand_in(ctx, lid, DEPLOYMENT, create)


def create_stage(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    def create() -> Created:
        name = str(props.get("StageName") or lid.lower())
        params: dict[str, Any] = {"restApiId": props["RestApiId"], "stageName": name,
                                  "deploymentId": props.get("DeploymentId", "")}
        if props.get("Variables"):
            params["variables"] = props["Variables"]
        if props.get("Tags"):
            params["tags"] = _tags(props["Tags"])
        ctx.client("apigateway").create_stage(**params)
        ctx.ignore_unhandled(lid, STAGE, props, {"RestApiId", "StageName", "DeploymentId", "Variables", "Tags"})
        return Created(name, {})

    return _or_stand_in(ctx, lid, STAGE, create)


# -- HTTP and WebSocket APIs (v2) ---------------------------------------------------------------------


def create_http_api(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    def create() -> Created:
        client = ctx.client("apigatewayv2")
        body = props.get("Body")
        title = body.get("info", {}).get("title") if isinstance(body, dict) else None
        params: dict[str, Any] = {"Name": str(props.get("Name") or title or f"{ctx.stack_name}-{lid}"),
                                  "ProtocolType": props.get("ProtocolType", "HTTP")}
        for key in ("Description", "RouteSelectionExpression", "DisableExecuteApiEndpoint"):
            if key in props:
                params[key] = props[key]
        if props.get("Tags"):
            params["Tags"] = _tags(props["Tags"])
        api = client.create_api(**params)
        if isinstance(body, dict):
            try:
                client.reimport_api(ApiId=api["ApiId"], Body=json.dumps(body))
            except ClientError as exc:
                ctx.note(lid, f"{HTTP_API} Body not imported by the backend ({exc}): the API exists without its "
                              "routes", property="Body")
        return Created(api["ApiId"], {"ApiId": api["ApiId"], "ApiEndpoint": api.get("ApiEndpoint") or
                                      f"https://{api['ApiId']}.execute-api.{ctx.region}.amazonaws.com"})

    return _or_stand_in(ctx, lid, HTTP_API, create)


def create_http_integration(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    def create() -> Created:
        params = {k: props[k] for k in ("ApiId", "IntegrationType", "IntegrationUri", "IntegrationMethod",
                                        "PayloadFormatVersion", "Description", "TimeoutInMillis") if k in props}
        if "TimeoutInMillis" in params:
            params["TimeoutInMillis"] = int(params["TimeoutInMillis"])
        made = ctx.client("apigatewayv2").create_integration(**params)
        return Created(made["IntegrationId"], {"IntegrationId": made["IntegrationId"]})

    return _or_stand_in(ctx, lid, HTTP_INTEGRATION, create)


def create_http_route(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    def create() -> Created:
        params = {k: props[k] for k in ("ApiId", "RouteKey", "Target", "AuthorizationType", "AuthorizerId")
                  if k in props}
        made = ctx.client("apigatewayv2").create_route(**params)
        return Created(made["RouteId"], {"RouteId": made["RouteId"]})

    return _or_stand_in(ctx, lid, HTTP_ROUTE, create)


def create_http_stage(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    def create() -> Created:
        params = {k: props[k] for k in ("ApiId", "StageName", "DeploymentId", "Description") if k in props}
        if "AutoDeploy" in props:
            params["AutoDeploy"] = str(props["AutoDeploy"]).lower() == "true"
        ctx.client("apigatewayv2").create_stage(**params)
        return Created(str(props["StageName"]), {})

    return _or_stand_in(ctx, lid, HTTP_STAGE, create)


def create_http_deployment(ctx: DeployContext, lid: str, props: dict[str, Any], raw: dict[str, Any]) -> Created:
    def create() -> Created:
        params = {k: props[k] for k in ("ApiId", "StageName", "Description") if k in props}
        made = ctx.client("apigatewayv2").create_deployment(**params)
        return Created(made["DeploymentId"], {"DeploymentId": made["DeploymentId"]})

    return _or_stand_in(ctx, lid, HTTP_DEPLOYMENT, create)


TYPES = (
    ResourceType(REST_API, create_rest_api, attributes=("RestApiId", "RootResourceId")),
    ResourceType(RESOURCE, create_resource, attributes=("ResourceId",), required=("RestApiId", "ParentId", "PathPart")),
    ResourceType(METHOD, create_method, attributes=(), required=("RestApiId", "ResourceId", "HttpMethod")),
    ResourceType(DEPLOYMENT, create_deployment, attributes=("DeploymentId",), required=("RestApiId",)),
    ResourceType(STAGE, create_stage, attributes=(), required=("RestApiId",)),
    ResourceType(HTTP_API, create_http_api, attributes=("ApiId", "ApiEndpoint")),
    ResourceType(HTTP_INTEGRATION, create_http_integration, attributes=("IntegrationId",),
                 required=("ApiId", "IntegrationType")),
    ResourceType(HTTP_ROUTE, create_http_route, attributes=("RouteId",), required=("ApiId", "RouteKey")),
    ResourceType(HTTP_STAGE, create_http_stage, attributes=(), required=("ApiId", "StageName")),
    ResourceType(HTTP_DEPLOYMENT, create_http_deployment, attributes=("DeploymentId",), required=("ApiId",)),
)
