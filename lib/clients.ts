import { ECSClient } from '@aws-sdk/client-ecs';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { SSMClient } from '@aws-sdk/client-ssm';
import { CONNECT_TIMEOUT_MS, REQUEST_TIMEOUT_MS, SDK_MAX_ATTEMPTS } from './constants.js';

/** The AWS clients a run uses; tests pass clients pointed at moto or wrapped by aws-sdk-client-mock. */
export interface Clients {
  tagging: ResourceGroupsTaggingAPIClient;
  ecs: ECSClient;
  ssm: SSMClient;
  /** Cloud Map's control plane (ListInstances, RegisterInstance, DeregisterInstance). */
  serviceDiscovery: ServiceDiscoveryClient;
}

/**
 * Timeouts of every HTTP request (NodeHttpHandler options): the SDK has none by default, and one stalled socket
 * would wait for the Lambda timeout. Each one fails the attempt with a TimeoutError, which the SDK retries like
 * any transient error.
 */
export const HTTP_TIMEOUTS = {
  /** Opening the connection. */
  connectionTimeout: CONNECT_TIMEOUT_MS,
  /** Sending the request and getting the response headers; thrown as an error, not only warned about. */
  requestTimeout: REQUEST_TIMEOUT_MS,
  throwOnRequestTimeout: true,
  /**
   * Silence on the socket, e.g. a body that stops halfway. A body that keeps dripping a byte at a time faster
   * than this is bounded by nothing here: only the run's time budget ends it.
   */
  socketTimeout: REQUEST_TIMEOUT_MS,
} as const;

/** Client settings the reconciler adds to the SDK's defaults (region, endpoint and credentials stay standard). */
export const CLIENT_DEFAULTS = {
  // Adaptive retries back off and rate-limit the client when AWS throttles (per-account token buckets).
  retryMode: 'adaptive',
  maxAttempts: SDK_MAX_ATTEMPTS,
} as const;

/**
 * Creates the reconciler's AWS clients, configured from the SDK's standard variables
 * (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials), each with its own HTTP handler and HTTP_TIMEOUTS.
 *
 * @param overrides - settings laid over the defaults, e.g. `endpoint`, or `requestHandler` timeouts in tests
 */
export const createClients = (overrides: Record<string, unknown> = {}): Clients => {
  const settings = () => ({ ...CLIENT_DEFAULTS, requestHandler: { ...HTTP_TIMEOUTS }, ...overrides });
  return {
    tagging: new ResourceGroupsTaggingAPIClient(settings()),
    ecs: new ECSClient(settings()),
    ssm: new SSMClient(settings()),
    serviceDiscovery: new ServiceDiscoveryClient(settings()),
  };
};
