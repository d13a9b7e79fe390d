// Reacts to a failed batch the event source mapping wrote to S3: reads it, alerts through SNS.
// The AWS SDK for JavaScript v3 is provided by the Lambda Node.js runtime (not bundled here).
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

const s3 = new S3Client({});
const sns = new SNSClient({});

export const handler = async (event) => {
  for (const record of event.Records) {
    const bucket = record.s3.bucket.name;
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const failure = JSON.parse(await object.Body.transformToString());
    const info = failure.DDBStreamBatchInfo ?? failure.KinesisBatchInfo ?? {};
    const records = JSON.parse(failure.payload ?? '{"Records":[]}').Records;
    await sns.send(new PublishCommand({
      TopicArn: process.env.ALERT_TOPIC_ARN,
      Subject: 'Failed DynamoDB stream batch',
      Message: JSON.stringify({
        key,
        condition: failure.requestContext.condition,
        approximateInvokeCount: failure.requestContext.approximateInvokeCount,
        batchSize: info.batchSize,
        orders: records.map((r) => r.dynamodb?.Keys?.PK?.S),
      }),
    }));
  }
};
