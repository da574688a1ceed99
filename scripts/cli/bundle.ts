/**
 * Loads the built reconciler (dist/reconcile/index.mjs, `npm run build`): the same bundle the Lambda runs.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HandlerResult } from '../../lib/handler.js';

/** The bundle `npm run build` makes: the Lambda's handler with the SDK's full credential chain (profiles). */
export const DEFAULT_BUNDLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../dist/reconcile-cli/index.mjs',
);

/** The handler's signature as the CLI calls it. */
export type Handler = (event: unknown, context: object) => Promise<HandlerResult>;

/** The Lambda context the CLI passes. */
export const context = { awsRequestId: 'cli', functionName: 'ecs-peers-cli' };

/**
 * Imports the built handler with the given configuration (the bundle reads its environment once, at import).
 *
 * @param env - the Lambda environment variables
 * @param verbose - keep the Powertools log lines and metrics
 * @param bundle - another build of the handler
 */
export const loadHandler = async (
  env: Record<string, string>,
  verbose: boolean,
  bundle = DEFAULT_BUNDLE,
): Promise<Handler> => {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build first`);
  Object.assign(process.env, env);
  if (!verbose) {
    process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  }
  const module = (await import(pathToFileURL(bundle).href)) as { handler: Handler };
  return module.handler;
};
