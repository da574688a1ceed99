/**
 * Lambda entry point of the ecs-peers reconciler. Configuration is validated and the AWS clients are created
 * once, at cold start; a bad environment fails the init with an error naming the variable.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createClients } from '../lib/clients.js';
import { loadConfig } from '../lib/config.js';
import { createHandler } from '../lib/handler.js';

// The template sets these to the stack name and its metrics namespace, so two stacks' metrics do not mix.
const SERVICE = process.env.POWERTOOLS_SERVICE_NAME || 'ecs-peers';
const NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE || 'EcsPeers';

const logger = new Logger({ serviceName: SERVICE });
const metrics = new Metrics({ serviceName: SERVICE, namespace: NAMESPACE });

/**
 * The Lambda handler: accepts a scheduled event, an "ECS Task State Change" event, an SQS batch of them, or a
 * manual payload (`{}`, `{"force":true}`, `{"dryRun":true}`), and returns the run's report.
 */
export const handler = createHandler({ config: loadConfig(process.env), clients: createClients(), logger, metrics });
