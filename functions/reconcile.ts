/**
 * Lambda entry point of the ecs-peers reconciler. Configuration is validated and the AWS clients are created
 * once, at cold start; a bad environment fails the init with an error naming the variable.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { loadConfig } from '../lib/config.js';
import { createHandler } from '../lib/handler.js';

// The template sets these to the stack name and its metrics namespace, so two stacks' metrics do not mix.
const SERVICE = process.env.POWERTOOLS_SERVICE_NAME || 'ecs-peers';
const NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE || 'EcsPeers';

const logger = new Logger({ serviceName: SERVICE });
const metrics = new Metrics({ serviceName: SERVICE, namespace: NAMESPACE });

// Adaptive retries back off and rate-limit the client when AWS throttles (shared per-account token buckets).
const retry = { retryMode: 'adaptive', maxAttempts: 5 } as const;

export const handler = createHandler({
  config: loadConfig(process.env),
  clients: {
    tagging: new ResourceGroupsTaggingAPIClient(retry),
    ecs: new ECSClient(retry),
    ssm: new SSMClient(retry),
  },
  logger,
  metrics,
});
