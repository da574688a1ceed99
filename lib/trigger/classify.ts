import * as z from 'zod';
import { clusterName } from '../config.js';
import { TriggerError } from '../errors.js';

/** What started a run. */
export type TriggerKind = 'schedule' | 'task-state-change' | 'sqs' | 'manual';

/** A classified invocation: what started it and what the run should do. */
export interface Trigger {
  kind: TriggerKind;
  /** Write the parameter even when the peer set is unchanged. */
  force: boolean;
  /** Compute and report, write nothing. */
  dryRun: boolean;
  /** Set when the invocation needs no run at all, with the reason. */
  ignored?: string;
  /** SQS message ids whose body is not an event we accept (reported as batch item failures). */
  failedMessageIds: string[];
}

const scheduledEvent = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});

const taskStateChangeEvent = z.looseObject({
  source: z.literal('aws.ecs'),
  'detail-type': z.literal('ECS Task State Change'),
  detail: z.looseObject({ clusterArn: z.string().min(1) }),
});

const sqsEvent = z.looseObject({
  Records: z
    .array(z.looseObject({ eventSource: z.literal('aws:sqs'), messageId: z.string(), body: z.string() }))
    .min(1),
});

const manualPayload = z.strictObject({ force: z.boolean().optional(), dryRun: z.boolean().optional() });

const eventBridgeEvent = z.union([scheduledEvent, taskStateChangeEvent]);
type EventBridgeEvent = z.infer<typeof eventBridgeEvent>;

/** The reason to ignore an EventBridge event, or undefined when it calls for a run. */
const ignoreReason = (event: EventBridgeEvent, cluster: string | undefined): string | undefined => {
  if (event.source !== 'aws.ecs' || cluster === undefined) return undefined;
  const eventCluster = clusterName(event.detail.clusterArn);
  return eventCluster === cluster ? undefined : `task event for cluster ${eventCluster}, not ${cluster}`;
};

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const run = (kind: TriggerKind, options: Partial<Trigger> = {}): Trigger => ({
  kind,
  force: false,
  dryRun: false,
  failedMessageIds: [],
  ...options,
});

/**
 * Decides what an invocation payload asks for. Events are hints: every accepted trigger leads to a full
 * reconcile, except task events about another cluster, which are acknowledged and ignored.
 *
 * @param payload - the Lambda event, untrusted
 * @param cluster - the configured cluster name, if any
 * @throws TriggerError for a payload that is none of the accepted triggers
 * @example
 * classifyTrigger({ dryRun: true }, 'shop'); // { kind: 'manual', dryRun: true, force: false, ... }
 */
export const classifyTrigger = (payload: unknown, cluster: string | undefined): Trigger => {
  const event = eventBridgeEvent.safeParse(payload);
  if (event.success) {
    const kind = event.data.source === 'aws.ecs' ? 'task-state-change' : 'schedule';
    const ignored = ignoreReason(event.data, cluster);
    return run(kind, ignored === undefined ? {} : { ignored });
  }

  const batch = sqsEvent.safeParse(payload);
  if (batch.success) {
    const failedMessageIds: string[] = [];
    const reasons: string[] = [];
    for (const record of batch.data.Records) {
      const body = eventBridgeEvent.safeParse(parseJson(record.body));
      if (!body.success) failedMessageIds.push(record.messageId);
      else reasons.push(ignoreReason(body.data, cluster) ?? '');
    }
    const wanted = reasons.some((reason) => reason === '');
    const ignored = wanted
      ? undefined
      : reasons.length > 0
        ? `every message is ignored (${[...new Set(reasons)].join('; ')})`
        : 'no message holds an EventBridge event';
    return run('sqs', { failedMessageIds, ...(ignored === undefined ? {} : { ignored }) });
  }

  const manual = manualPayload.safeParse(payload);
  if (manual.success) {
    return run('manual', { force: manual.data.force ?? false, dryRun: manual.data.dryRun ?? false });
  }

  throw new TriggerError(
    'unrecognised payload: expected a scheduled event, an "ECS Task State Change" event, an SQS batch of them, ' +
      'or a manual payload such as {}, {"force":true} or {"dryRun":true}; nothing was written',
  );
};
