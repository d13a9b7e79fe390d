"""Stand-ins for the resource types the local deploy does not create.

A template as a team writes it holds resources no stream pipeline needs (a CloudFront
distribution, a WAF ACL, a VPC...). Refusing the whole deploy for one of them would make the
harness useless on real stacks, and leaving it out would break every Ref and Fn::GetAtt that
names it. So each one is stood in for: Ref and Fn::GetAtt give values of the shape AWS gives
(an ARN of the right service, partition, region and account; an id with the service's prefix; a
URL), nothing is created behind them, and a note says so. A function that calls the resource at
run time then gets the service's own not-found error, as on AWS when a resource is missing.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from harness.deploy.resources.base import Created, DeployContext, physical_name

REASON = ("not created by the local deploy (the embedded backend does not serve it, or the harness does not "
          "create it yet): Ref and Fn::GetAtt give values of its shape, nothing exists behind them, so a call to "
          "it at run time gets the service's own not-found error")

# Types whose Ref is the resource's ARN (CloudFormation's documented return values).
_REF_IS_ARN = frozenset({
    "AWS::AppSync::GraphQLApi", "AWS::AppSync::DataSource", "AWS::AppSync::Resolver", "AWS::AppSync::FunctionConfiguration",
    "AWS::ECS::TaskDefinition", "AWS::ECS::Service", "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup", "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::SecretsManager::SecretTargetAttachment", "AWS::SecretsManager::ResourcePolicy",
    "AWS::StepFunctions::Activity", "AWS::StepFunctions::StateMachineVersion", "AWS::StepFunctions::StateMachineAlias",
    "AWS::CertificateManager::Certificate", "AWS::IoT::TopicRule", "AWS::CodeBuild::Project",
    "AWS::Events::Connection", "AWS::Events::ApiDestination", "AWS::Glue::Job", "AWS::Kinesis::StreamConsumer",
    "AWS::SSM::Document",
})
# EC2-style ids: Ref gives `<prefix>-<17 hex>`.
_ID_PREFIXES = {
    "AWS::EC2::VPC": "vpc", "AWS::EC2::Subnet": "subnet", "AWS::EC2::SecurityGroup": "sg",
    "AWS::EC2::InternetGateway": "igw", "AWS::EC2::NatGateway": "nat", "AWS::EC2::RouteTable": "rtb",
    "AWS::EC2::EIP": "eipalloc", "AWS::EC2::VPCEndpoint": "vpce", "AWS::EC2::Instance": "i",
    "AWS::EC2::NetworkAcl": "acl", "AWS::EC2::LaunchTemplate": "lt", "AWS::EC2::TransitGateway": "tgw",
}
# Services whose ARN has no region or account part.
_GLOBAL = {"iam": (False, False), "s3": (False, False), "cloudfront": (False, True), "route53": (False, False)}
# CloudFormation namespace -> the service name in ARNs, where they differ.
_SERVICE = {"elasticloadbalancingv2": "elasticloadbalancing", "stepfunctions": "states", "cognito": "cognito-idp",
            "certificatemanager": "acm", "cloudwatch": "cloudwatch", "applicationautoscaling": "application-autoscaling",
            "apigatewayv2": "apigateway", "kinesisfirehose": "firehose", "elasticsearch": "es", "opensearchservice": "es",
            "wafv2": "wafv2", "events": "events", "logs": "logs"}


def _hex(n: int) -> str:
    return secrets.token_hex((n + 1) // 2)[:n]


def _alnum(n: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def service_of(resource_type: str) -> str:
    """`AWS::StepFunctions::Activity` -> `states`: the service name ARNs of the type carry."""
    parts = resource_type.split("::")
    namespace = parts[1].lower() if len(parts) >= 3 else "unknown"
    return _SERVICE.get(namespace, namespace)


def _resource_word(resource_type: str) -> str:
    """`AWS::Events::ApiDestination` -> `api-destination`: the resource part of a made-up ARN."""
    name = resource_type.split("::")[-1]
    out = "".join("-" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))
    return out


def stand_in(ctx: DeployContext, lid: str, resource_type: str, attributes: set[str], *,
             reason: str = REASON) -> Created:
    """A Created whose Ref and the named `attributes` have the shape AWS gives them; `stood_in` says why."""
    service = service_of(resource_type)
    with_region, with_account = _GLOBAL.get(service, (True, True))
    if resource_type in _ID_PREFIXES:
        name = f"{_ID_PREFIXES[resource_type]}-{_hex(17)}"
    elif resource_type == "AWS::CloudFront::Distribution":
        name = "E" + _alnum(13, string.ascii_uppercase + string.digits)
    elif resource_type == "AWS::Cognito::UserPool":
        name = f"{ctx.region}_{_alnum(9, string.ascii_letters + string.digits)}"
    else:
        name = physical_name(ctx.stack_name, lid, max_length=64, allowed=string.ascii_letters + string.digits + "-_")
    arn = ctx.arn(service, f"{_resource_word(resource_type)}/{name}", region=with_region, account=with_account)
    ref = arn if resource_type in _REF_IS_ARN else name
    values = {attribute: _attribute(attribute, name=name, arn=arn, service=service, ctx=ctx, resource_type=resource_type)
              for attribute in sorted(attributes)}
    ctx.note(lid, f"stood in: {resource_type} {reason}", resource_type=resource_type, stood_in=True)
    return Created(ref, values, stood_in=reason)


def _attribute(attribute: str, *, name: str, arn: str, service: str, ctx: DeployContext, resource_type: str) -> Any:
    leaf = attribute.rsplit(".", 1)[-1]
    if leaf.endswith("Arn") or leaf == "Arn":
        return arn
    if resource_type == "AWS::CloudFront::Distribution" and leaf == "DomainName":
        return f"d{_alnum(13)}.cloudfront.net"
    if leaf.endswith(("Url", "URL", "Uri")):
        return f"https://{name.lower()}.{service}.{ctx.region}.amazonaws.com"
    if leaf.endswith(("Endpoint", "DomainName", "Address", "Host")):
        return f"{name.lower()}.{service}.{ctx.region}.amazonaws.com"
    if leaf.endswith(("Ids", "List", "Addresses")):
        return [name]
    if leaf.endswith("Port"):
        return "443"
    return name


def attributes_read(template: dict[str, Any], lid: str) -> set[str]:
    """Every attribute of `lid` the template reads through Fn::GetAtt or `${lid.Attr}` (resources and outputs)."""
    from harness.deploy.intrinsics import getatt_references

    sections = [resource.get("Properties", {}) for resource in (template.get("Resources") or {}).values()
                if isinstance(resource, dict)]
    sections.append(template.get("Outputs") or {})
    return {attribute for section in sections for target, attribute, _ in getatt_references(section)
            if target == lid}
