// The stack of the AWS Database Blog post "Gracefully handle failed AWS Lambda events from Amazon
// DynamoDB Streams", as the post writes it: a TableV2 stream read by a Node.js consumer with bounded
// retries and bisect, failed batches written to S3 (metadata and payload), a failure handler on
// ObjectCreated that alerts through SNS. The harness runs it unchanged.
import { Aws, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, S3OnFailureDestination } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export class StreamFailuresStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const table = new dynamodb.TableV2(this, 'OrdersTable', {
      partitionKey: { name: 'PK', type: dynamodb.AttributeType.STRING },
      dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const failureBucket = new s3.Bucket(this, 'FailedEventsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const consumer = new lambda.Function(this, 'StreamConsumer', {
      runtime: lambda.Runtime.NODEJS_LATEST,
      handler: 'index.handler',
      code: lambda.Code.fromAsset('lambda/consumer'),
      timeout: Duration.seconds(30),
    });
    table.grantStreamRead(consumer);
    failureBucket.grantPut(consumer);
    // The post's advice: only write failed events to a bucket owned by this account.
    consumer.addToRolePolicy(new iam.PolicyStatement({
      actions: ['s3:PutObject', 's3:ListBucket'],
      resources: [failureBucket.bucketArn, failureBucket.arnForObjects('*')],
      conditions: { StringEquals: { 's3:ResourceAccount': Aws.ACCOUNT_ID } },
    }));

    consumer.addEventSource(new DynamoEventSource(table, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: 10,
      retryAttempts: 3,
      bisectBatchOnError: true,
      onFailure: new S3OnFailureDestination(failureBucket),
    }));

    const alerts = new sns.Topic(this, 'FailureAlerts');
    const failureHandler = new lambda.Function(this, 'FailureHandler', {
      runtime: lambda.Runtime.NODEJS_LATEST,
      handler: 'index.handler',
      code: lambda.Code.fromAsset('lambda/failure-handler'),
      timeout: Duration.seconds(30),
      environment: { ALERT_TOPIC_ARN: alerts.topicArn },
    });
    failureBucket.grantRead(failureHandler);
    alerts.grantPublish(failureHandler);
    failureBucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.LambdaDestination(failureHandler),
      { prefix: 'aws/lambda/' },
    );
  }
}
