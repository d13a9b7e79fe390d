import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { unmarshall } from "@aws-sdk/util-dynamodb";

const sfn = new SFNClient({});

export const handler = async (event) => {
  for (const record of event.Records) {
    if (!record.dynamodb.NewImage) continue; // a deleted order has nothing to fulfil
    const order = unmarshall(record.dynamodb.NewImage);
    if (!order.customerId) {
      if (process.env.ALLOW_GUEST_ORDERS !== "true") {
        throw new Error(`order ${order.pk}/${order.sk} has no customerId`);
      }
      order.customerId = "guest";
    }
    const { executionArn } = await sfn.send(new StartExecutionCommand({
      stateMachineArn: process.env.STATE_MACHINE_ARN,
      input: JSON.stringify(order),
    }));
    console.log(JSON.stringify({ level: "info", message: "fulfilment started", order: order.sk, executionArn }));
  }
};
