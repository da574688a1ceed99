import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Clients } from './clients.js';
import { accountOf, checkClusterAccount, type Config } from './config.js';
import { DiscoveryError, OverwriteRaceError, PublishError } from './errors.js';
import { boundedError, capList } from './logBounds.js';
import { recordError, recordIgnored, recordReport } from './metrics.js';
import { PathChooser } from './discover/index.js';
import { reconcile } from './reconcile.js';
import { ignoredReport, type Report } from './report.js';
import { classifyTrigger } from './trigger/index.js';

/** What the handler returns: the report, plus SQS batch item failures for SQS triggers. */
export type HandlerResult = Report & { batchItemFailures?: { itemIdentifier: string }[] };

/** Everything the handler needs, created once per execution environment. */
export interface HandlerDependencies {
  config: Config;
  clients: Clients;
  logger: Logger;
  metrics: Metrics;
}

/** The log line of a run that succeeded: the stores it wrote, else those it left unchanged. */
const reconciledLine = ({ stores }: Report): string => {
  const named = [
    stores.ssm && { name: 'parameter', written: stores.ssm.written },
    stores.cloudMap && { name: 'Cloud Map service', written: stores.cloudMap.written },
  ].filter((store) => store !== undefined);
  const written = named.filter((store) => store.written);
  const listed = (written.length > 0 ? written : named).map((store) => store.name).join(' and ');
  return `reconciled: ${listed} ${written.length > 0 ? 'written' : 'unchanged'}`;
};

/** What a failed run left in each store, for its log line (Cloud Map registers before it deregisters). */
const keptAfterFailure = (config: Config): string =>
  [
    config.peersParameter !== undefined && 'the parameter keeps its last value',
    config.cloudMapServiceId !== undefined &&
      'Cloud Map lost no live peer (a write cut short may have registered some)',
  ]
    .filter((text) => text !== false)
    .join('; ');

/**
 * Builds the Lambda handler: classify the trigger, reconcile, log and measure the report. The run gets
 * middy's abort signal (aborted when the invocation ends) and the invocation's remaining time, so it stops
 * and fails with a named error while the invocation is still alive, and never writes after it ended.
 *
 * @param deps - configuration, AWS clients, Powertools Logger and Metrics
 * @example
 * export const handler = createHandler({ config: loadConfig(process.env), clients, logger, metrics });
 */
export const createHandler = ({ config, clients, logger, metrics }: HandlerDependencies) => {
  // Lives as long as the execution environment: the discovery path of each run is chosen from earlier runs' costs.
  const paths = new PathChooser();
  const run = async (event: unknown, context: Context, { signal }: { signal?: AbortSignal } = {}) => {
    try {
      const account = accountOf(context.invokedFunctionArn);
      checkClusterAccount(config, account);
      const trigger = classifyTrigger(event, { cluster: config.cluster, region: config.region, account });
      const batch =
        trigger.kind === 'sqs'
          ? { batchItemFailures: trigger.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) }
          : {};
      if (trigger.failedMessageIds.length > 0) {
        const { items, omitted } = capList(trigger.failedMessageIds);
        logger.warn('SQS messages that hold no accepted event are returned as batch item failures', {
          failedMessages: trigger.failedMessageIds.length,
          messageIds: items,
          ...(omitted > 0 ? { messageIdsOmitted: omitted } : {}),
        });
      }
      if (trigger.ignored !== undefined) {
        const report = ignoredReport(config, trigger);
        recordIgnored(metrics);
        logger.info('ignored', { report });
        return { ...report, ...batch };
      }
      const remainingMs = context.getRemainingTimeInMillis?.();
      const report = await reconcile(clients, config, trigger, {
        ...(signal ? { signal } : {}),
        remainingMs,
        paths,
      });
      recordReport(metrics, report);
      if (report.tasks.fallback !== undefined) {
        logger.warn('discovery took the other path', {
          discovery: report.tasks.discovery,
          reason: report.tasks.fallback,
        });
      }
      logger.info(reconciledLine(report), { report });
      return { ...report, ...batch };
    } catch (error) {
      recordError(metrics);
      const failedCall = error instanceof DiscoveryError || error instanceof PublishError ? error.api : undefined;
      // After a raced write the parameter holds this run's value, not its last one: say so, so nobody trusts it.
      const outcome =
        error instanceof OverwriteRaceError
          ? 'reconcile failed; its write raced another writer and the next run republishes'
          : `reconcile failed; ${keptAfterFailure(config)}`;
      logger.error(outcome, { failedCall, error: boundedError(error) });
      throw error;
    }
  };

  return middy<unknown, HandlerResult, Error, Context>(run)
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
};
