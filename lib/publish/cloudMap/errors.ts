import { describeError, PublishError } from '../../errors.js';
import { CLOUD_MAP_MAX_INSTANCES } from './constants.js';

/** The Cloud Map calls that change a service. */
export const CLOUD_MAP_WRITES = ['servicediscovery:RegisterInstance', 'servicediscovery:DeregisterInstance'] as const;

/** A Cloud Map call failed: ListInstances, or the register/deregister of one instance. */
export class CloudMapError extends PublishError {
  override name = 'CloudMapError';
  /** The failed call changes the service (CLOUD_MAP_WRITES): it came after every read, and after the parameter's write. */
  readonly write: boolean;

  /**
   * @param api - the failed call, e.g. `servicediscovery:RegisterInstance`
   * @param serviceId - the Cloud Map service (`srv-...`)
   * @param instanceId - the instance the call was about, if any
   * @param options - `cause`: the SDK error (or the InvalidResponseError / RunDeadlineError behind it)
   */
  constructor(
    api: string,
    readonly serviceId: string,
    readonly instanceId?: string,
    options?: ErrorOptions,
  ) {
    super(api, serviceId, options);
    this.write = (CLOUD_MAP_WRITES as readonly string[]).includes(api);
    const target = instanceId === undefined ? `service ${serviceId}` : `instance ${instanceId} of service ${serviceId}`;
    const cause = options?.cause === undefined ? 'unknown error' : describeError(options.cause);
    this.message =
      `${api} on ${target} failed (${cause}); nothing is deregistered after a failed call, ` +
      'and the next run repairs what this one left';
  }
}

/** The peer set has more peers than one Cloud Map service holds; nothing was written. */
export class TooManyInstancesError extends Error {
  override name = 'TooManyInstancesError';

  /**
   * @param peers - how many peers the set holds
   * @param serviceId - the Cloud Map service
   */
  constructor(
    readonly peers: number,
    readonly serviceId: string,
  ) {
    super(
      `the peer set has ${peers} peers, over Cloud Map's limit of ${CLOUD_MAP_MAX_INSTANCES} instances per service ` +
        `(${serviceId}); nothing was written (split the cluster by tags into several services)`,
    );
  }
}
