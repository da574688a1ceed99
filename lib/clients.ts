import { ECSClient } from '@aws-sdk/client-ecs';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Clients } from './reconcile.js';

/** Client settings the reconciler adds to the SDK's defaults (region, endpoint and credentials stay standard). */
export const CLIENT_DEFAULTS = {
  // Adaptive retries back off and rate-limit the client when AWS throttles (per-account token buckets).
  retryMode: 'adaptive',
  maxAttempts: 5,
} as const;

/**
 * Creates the reconciler's AWS clients, configured from the SDK's standard variables
 * (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials).
 *
 * @param overrides - settings laid over the defaults, e.g. a `requestHandler` in tests
 */
export const createClients = (overrides: Record<string, unknown> = {}): Clients => {
  const settings = { ...CLIENT_DEFAULTS, ...overrides };
  return {
    tagging: new ResourceGroupsTaggingAPIClient(settings),
    ecs: new ECSClient(settings),
    ssm: new SSMClient(settings),
  };
};
