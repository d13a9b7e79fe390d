// The stream consumer: an order with a negative amount is invalid and fails the batch, until the
// fix (ACCEPT_REFUNDS=true) is deployed. REMOVE records carry no new image and are acknowledged.
export const handler = async (event) => {
  for (const record of event.Records) {
    const image = record.dynamodb?.NewImage;
    if (!image) continue;
    const orderId = image.PK?.S;
    const amount = Number(image.amount?.N);
    if (!(amount >= 0) && process.env.ACCEPT_REFUNDS !== 'true') {
      throw new Error(`invalid order ${orderId}: amount ${image.amount?.N}`);
    }
    console.log(JSON.stringify({ processed: orderId, amount, sequenceNumber: record.dynamodb.SequenceNumber }));
  }
};
