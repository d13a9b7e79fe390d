"""cdk-nag (AwsSolutions) on the stack, and the written reason for every finding we accept.

cdk-nag 3.x is a CDK policy-validation plugin, not an Aspect: an unacknowledged *error*
makes `app.synth()` fail with "Validation failed" (and a validation-report.json in the
assembly), so a new IAM wildcard or an unencrypted bucket stops synthesis, locally and in CI.
Its replacement for v2's `NagSuppressions` is `Validations.of(construct).acknowledge(...)`,
one acknowledgment per finding, each with a reason. Acknowledgments live in construct
metadata only: the CloudFormation template is byte-for-byte what it was without cdk-nag.

Each reason says why the finding is acceptable *for this stack*; if a reason stops being
true, delete the acknowledgment and fix the resource instead.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PACK = "AwsSolutions::"

BASIC_EXECUTION = (
    PACK + "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
)
REASON_BASIC_EXECUTION = (
    "AWSLambdaBasicExecutionRole grants only logs:CreateLogGroup/CreateLogStream/PutLogEvents, the minimum a "
    "function needs to write its own logs; a hand-written copy would be identical and drift from AWS's."
)
REASON_RUNTIME = (
    "python3.11 is pinned on purpose: the local runtime runs the same handler code with the harness's Python 3.11 "
    "and awslambdaric, so a verdict reached locally holds on AWS; raise both together."
)
REASON_PITR = (
    "Harness tables hold scenario data that is regenerated on every run (source items are injected, the projection "
    "is rebuilt from the stream and from replay); point-in-time recovery would add cost and protect nothing."
)

# (construct path under the stack, finding id, reason)
ACKNOWLEDGED: tuple[tuple[str, str, str], ...] = (
    ("FailureBucket/Resource", PACK + "AwsSolutions-S1",
     "The failure bucket receives only ESM on-failure records; every object creation is already observed "
     "(S3 ObjectCreated -> failure handler -> archive copy + SNS alert). A server-access-log bucket would be a "
     "second retained bucket to secure; account-level CloudTrail S3 data events are the audit trail if needed."),
    ("ConsumerFunction/ServiceRole/Resource", BASIC_EXECUTION, REASON_BASIC_EXECUTION),
    ("FailureHandlerFunction/ServiceRole/Resource", BASIC_EXECUTION, REASON_BASIC_EXECUTION),
    ("BucketNotificationsHandler050a0587b7544547bf325f094a3db834/Role/Resource", BASIC_EXECUTION,
     "CDK's own bucket-notifications custom resource (created by add_event_notification) ships with this role; "
     "it only needs to write its logs. " + REASON_BASIC_EXECUTION),
    ("ConsumerFunction/ServiceRole/DefaultPolicy/Resource", PACK + "AwsSolutions-IAM5[Resource::<FailureBucket1DB25638.Arn>/*]",
     "The ESM writes on-failure records to aws/lambda/<ESM-UUID>/<shardId>/<date>/<random UUID> (spec section 4): "
     "the key is chosen by Lambda, so the object ARN needs a wildcard. Only s3:PutObject/s3:ListBucket, and only "
     "under the s3:ResourceAccount = this account condition."),
    ("ConsumerFunction/ServiceRole/DefaultPolicy/Resource", PACK + "AwsSolutions-IAM5[Resource::*]",
     "dynamodb:ListStreams (granted by the CDK DynamoDB event source) supports no resource-level permissions; "
     "every other stream action is scoped to the source table's stream ARN."),
    ("FailureHandlerFunction/ServiceRole/DefaultPolicy/Resource", PACK + "AwsSolutions-IAM5[Action::s3:GetObject*]",
     "bucket.grant_read's action set, scoped to <FailureBucket>/aws/lambda/*: the handler reads failure records "
     "(GetObject, and the HeadObject it implies) and nothing else."),
    ("FailureHandlerFunction/ServiceRole/DefaultPolicy/Resource", PACK + "AwsSolutions-IAM5[Action::s3:GetBucket*]",
     "bucket.grant_read's action set on the failure bucket only (no other bucket); read-only bucket metadata."),
    ("FailureHandlerFunction/ServiceRole/DefaultPolicy/Resource", PACK + "AwsSolutions-IAM5[Action::s3:List*]",
     "bucket.grant_read's action set on the failure bucket only; listing is read-only and needed to tell "
     "NoSuchKey from AccessDenied when an object disappears before it is read."),
    ("FailureHandlerFunction/ServiceRole/DefaultPolicy/Resource",
     PACK + "AwsSolutions-IAM5[Resource::<FailureBucket1DB25638.Arn>/aws/lambda/*]",
     "The handler reads whichever failure record the notification names; those keys are chosen by Lambda "
     "(random UUID), so only the prefix can be fixed."),
    ("FailureHandlerFunction/ServiceRole/DefaultPolicy/Resource", PACK + "AwsSolutions-IAM5[Action::s3:Abort*]",
     "bucket.grant_put's action set (PutObject + AbortMultipartUpload), scoped to <FailureBucket>/archive/*."),
    ("FailureHandlerFunction/ServiceRole/DefaultPolicy/Resource",
     PACK + "AwsSolutions-IAM5[Resource::<FailureBucket1DB25638.Arn>/archive/*]",
     "Archive copies go to archive/condition=<c>/date=<d>/<flattened key>, one per failure record; the prefix "
     "is fixed, the key cannot be. archive/ is outside the notification filter, so no loop."),
    ("SourceTable/Resource", PACK + "AwsSolutions-DDB3", REASON_PITR),
    ("ProjectionTable/Resource", PACK + "AwsSolutions-DDB3", REASON_PITR),
)

# Findings on resources that exist only with some settings; acknowledged where present.
RUNTIME_PINNED = (("ConsumerFunction/Resource", PACK + "AwsSolutions-L1", REASON_RUNTIME),
                  ("FailureHandlerFunction/Resource", PACK + "AwsSolutions-L1", REASON_RUNTIME))


def _find(stack: cdk.Stack, path: str) -> IConstruct:
    node: IConstruct = stack
    for part in path.split("/"):
        child = node.node.try_find_child(part)
        if child is None:
            raise LookupError(f"cdk-nag acknowledgment: no construct {stack.node.id}/{path} (stopped at {part!r}); "
                              "the stack changed, so re-check the finding this acknowledgment was written for")
        node = child
    return node


def apply_nag(app: cdk.App, stack: cdk.Stack) -> None:
    """Run AwsSolutions on the whole app and acknowledge the findings listed above, each with its reason."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    for path, rule, reason in ACKNOWLEDGED + RUNTIME_PINNED:
        cdk.Validations.of(_find(stack, path)).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))
