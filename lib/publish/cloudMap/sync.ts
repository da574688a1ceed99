import type { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import type { RunScope } from '../../runScope.js';
import { CLOUD_MAP_MAX_INSTANCES } from './constants.js';
import { TooManyInstancesError } from './errors.js';
import { nodesOf, planInstances, type Instance, type InstancePlan } from './instances.js';
import { listInstances } from './listInstances.js';
import { deregisterInstances, registerInstances } from './writeInstances.js';

/** What the Cloud Map store did in one run (in a dry run: what it would do). */
export interface CloudMapReport {
  serviceId: string;
  /** Instances the peer set needs. */
  instances: number;
  /** Ids registered (new, changed, or all when forced). */
  registered: string[];
  /** Ids deregistered (no longer peers). */
  deregistered: string[];
  /** Some register or deregister call was made. */
  written: boolean;
}

/** The registered instances and what they need, read before anything is written. */
export interface CloudMapState {
  serviceId: string;
  current: Instance[];
  desired: Instance[];
  plan: InstancePlan;
  /** The node names the registered instances carry now. */
  published: string[];
}

/**
 * Reads the service's instances and plans the registrations and deregistrations the peer set needs.
 *
 * @param client - Cloud Map client
 * @param serviceId - the service (`srv-...`)
 * @param desired - the instances the peer set needs (`peerInstances`)
 * @param force - plan to register every desired instance
 * @param scope - the run's scope
 * @throws TooManyInstancesError over CLOUD_MAP_MAX_INSTANCES peers (before any call); CloudMapError when
 *   ListInstances fails
 */
export const readCloudMap = async (
  client: ServiceDiscoveryClient,
  serviceId: string,
  desired: Instance[],
  force: boolean,
  scope: RunScope,
): Promise<CloudMapState> => {
  if (desired.length > CLOUD_MAP_MAX_INSTANCES) throw new TooManyInstancesError(desired.length, serviceId);
  const current = await listInstances(client, serviceId, scope);
  return { serviceId, current, desired, plan: planInstances(current, desired, force), published: nodesOf(current) };
};

/**
 * Applies a plan: registers first and deregisters after (make before break: a reader never sees a set that
 * lacks a peer that is still running), unless registering first would take the service over its instance limit.
 * A failed registration stops the run before any deregistration.
 *
 * @param client - Cloud Map client
 * @param state - what readCloudMap returned
 * @param dryRun - write nothing; the report says what would be written
 * @param scope - the run's scope
 * @throws CloudMapError naming the instance and the call that failed
 */
export const writeCloudMap = async (
  client: ServiceDiscoveryClient,
  { serviceId, current, desired, plan }: CloudMapState,
  dryRun: boolean,
  scope: RunScope,
): Promise<CloudMapReport> => {
  const registered = plan.register.map((instance) => instance.id);
  const report = { serviceId, instances: desired.length, registered, deregistered: plan.deregister };
  if (dryRun) return { ...report, written: false };
  const ids = new Set(current.map((instance) => instance.id));
  const fresh = registered.filter((id) => !ids.has(id)).length;
  const register = () => registerInstances(client, serviceId, plan.register, scope);
  const deregister = () => deregisterInstances(client, serviceId, plan.deregister, scope);
  if (ids.size + fresh > CLOUD_MAP_MAX_INSTANCES) {
    await deregister();
    await register();
  } else {
    await register();
    await deregister();
  }
  return { ...report, written: registered.length + plan.deregister.length > 0 };
};
