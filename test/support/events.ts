/** The events the function is invoked with, as the tests send them (shapes in ../shared/notes/aws-facts.md). */

/** An EventBridge schedule's event. */
export const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

/** An EventBridge "ECS Task State Change" event of a cluster in 123456789012, us-east-1. */
export const taskEvent = (cluster: string, lastStatus = 'RUNNING') => ({
  source: 'aws.ecs',
  'detail-type': 'ECS Task State Change',
  detail: { clusterArn: `arn:aws:ecs:us-east-1:123456789012:cluster/${cluster}`, lastStatus },
});

/** An SQS batch carrying `events`, message ids m0, m1, ... */
export const sqsBatch = (...events: object[]) => ({
  Records: events.map((event, index) => ({
    eventSource: 'aws:sqs',
    messageId: `m${index}`,
    body: JSON.stringify(event),
  })),
});
