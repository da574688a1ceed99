import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Config } from './config.js';
import { DiscoveryError, PublishError } from './errors.js';
import { recordError, recordIgnored, recordReport } from './metrics.js';
import { ignoredReport, reconcile, type Clients, type Report } from './reconcile.js';
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

/**
 * Builds the Lambda handler: classify the trigger, reconcile, log and measure the report.
 *
 * @param deps - configuration, AWS clients, Powertools Logger and Metrics
 * @example
 * export const handler = createHandler({ config: loadConfig(process.env), clients, logger, metrics });
 */
export const createHandler = ({ config, clients, logger, metrics }: HandlerDependencies) => {
  const run = async (event: unknown, _context: Context): Promise<HandlerResult> => {
    try {
      const trigger = classifyTrigger(event, config.cluster);
      const batch =
        trigger.kind === 'sqs'
          ? { batchItemFailures: trigger.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) }
          : {};
      if (trigger.failedMessageIds.length > 0) {
        logger.warn('SQS messages that hold no accepted event are returned as batch item failures', {
          messageIds: trigger.failedMessageIds,
        });
      }
      if (trigger.ignored !== undefined) {
        const report = ignoredReport(config, trigger);
        recordIgnored(metrics);
        logger.info('ignored', { report });
        return { ...report, ...batch };
      }
      const report = await reconcile(clients, config, trigger);
      recordReport(metrics, report);
      logger.info(report.written ? 'reconciled: parameter written' : 'reconciled: parameter unchanged', { report });
      return { ...report, ...batch };
    } catch (error) {
      recordError(metrics);
      const failedCall = error instanceof DiscoveryError || error instanceof PublishError ? error.api : undefined;
      logger.error('reconcile failed; the parameter keeps its last value', { failedCall, error: error as Error });
      throw error;
    }
  };

  return middy(run)
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
};
