import * as z from 'zod/mini';
import { clusterName, parseArn } from '../config.js';
import { LOG_LIST_MAX } from '../constants.js';
import { TriggerError } from '../errors.js';
import { listSample } from '../logBounds.js';

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
  detail: z.looseObject({ clusterArn: z.string().check(z.minLength(1)) }),
});

const sqsEvent = z.looseObject({
  Records: z
    .array(z.looseObject({ eventSource: z.literal('aws:sqs'), messageId: z.string(), body: z.string() }))
    .check(z.minLength(1)),
});

const manualPayload = z.strictObject({ force: z.optional(z.boolean()), dryRun: z.optional(z.boolean()) });

const eventBridgeEvent = z.union([scheduledEvent, taskStateChangeEvent]);
type EventBridgeEvent = z.infer<typeof eventBridgeEvent>;

/** Which clusters' task events call for a run: the configured one (or any), in the function's account and Region. */
export interface ClusterScope {
  /** The configured cluster name; undefined accepts every cluster of the account and Region. */
  cluster?: string;
  /** The function's Region; undefined when unknown. */
  region?: string;
  /** The function's account; undefined when unknown. */
  account?: string;
}

/** The reason to ignore an EventBridge event, or undefined when it calls for a run. */
const ignoreReason = (event: EventBridgeEvent, scope: ClusterScope): string | undefined => {
  if (event.source !== 'aws.ecs') return undefined;
  // The name comes from an untrusted event: cut it to the longest valid cluster name for messages.
  const eventCluster = clusterName(event.detail.clusterArn).slice(0, 255);
  const arn = parseArn(event.detail.clusterArn);
  if (scope.account !== undefined && arn !== undefined && arn.account !== scope.account) {
    return `task event for cluster ${eventCluster} of account ${arn.account}, not ${scope.account}`;
  }
  if (scope.region !== undefined && arn !== undefined && arn.region !== scope.region) {
    return `task event for cluster ${eventCluster} in Region ${arn.region.slice(0, 64)}, not ${scope.region}`;
  }
  if (scope.cluster === undefined || eventCluster === scope.cluster) return undefined;
  return `task event for cluster ${eventCluster}, not ${scope.cluster}`;
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
 * reconcile, except task events about another cluster (or another account or Region), which are acknowledged
 * and ignored.
 *
 * @param payload - the Lambda event, untrusted
 * @param scope - the configured cluster, and the function's account and Region, as far as known (a string: the
 *   cluster name alone)
 * @throws TriggerError for a payload that is none of the accepted triggers
 * @example
 * classifyTrigger({ dryRun: true }, { cluster: 'shop' }); // { kind: 'manual', dryRun: true, force: false, ... }
 */
export const classifyTrigger = (payload: unknown, clusters: ClusterScope | string | undefined = {}): Trigger => {
  const scope = typeof clusters === 'string' ? { cluster: clusters } : (clusters ?? {});
  const event = eventBridgeEvent.safeParse(payload);
  if (event.success) {
    const kind = event.data.source === 'aws.ecs' ? 'task-state-change' : 'schedule';
    const ignored = ignoreReason(event.data, scope);
    return run(kind, ignored === undefined ? {} : { ignored });
  }

  const batch = sqsEvent.safeParse(payload);
  if (batch.success) {
    const failedMessageIds: string[] = [];
    const reasons: string[] = [];
    for (const record of batch.data.Records) {
      const body = eventBridgeEvent.safeParse(parseJson(record.body));
      if (!body.success) failedMessageIds.push(record.messageId);
      else reasons.push(ignoreReason(body.data, scope) ?? '');
    }
    const wanted = reasons.some((reason) => reason === '');
    const ignored = wanted
      ? undefined
      : reasons.length > 0
        ? `every message is ignored (${listSample([...new Set(reasons)], LOG_LIST_MAX / 4, '; ')})`
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
