import type { Task } from '@aws-sdk/client-ecs';
import { clusterOfTask, taskPeer } from '../../discover/index.js';
import { ATTRIBUTE } from './constants.js';

/** A Cloud Map instance: its id and custom attributes. */
export interface Instance {
  id: string;
  attributes: Record<string, string>;
}

/** What the registered instances need to become the desired ones. */
export interface InstancePlan {
  /** New instances, or ones whose attributes differ (or every desired one, when forced). */
  register: Instance[];
  /** Ids of registered instances that are no longer peers. */
  deregister: string[];
  /** Registered instances that already match. */
  unchanged: number;
  /** Something differs (the same whether or not the run is forced). */
  changed: boolean;
}

/** The id of a task: the last part of its ARN (`...:task/CLUSTER/ID`). */
export const taskId = (taskArn: string): string => taskArn.slice(taskArn.lastIndexOf('/') + 1);

/** The family of a task definition ARN (`...:task-definition/FAMILY:REVISION`). */
const familyOf = (taskDefinitionArn: string | undefined): string | undefined =>
  taskDefinitionArn?.match(/:task-definition\/([^:/]+)(:\d+)?$/)?.[1];

/** The Region of an ARN (`arn:PARTITION:SERVICE:REGION:...`). */
const regionOf = (arn: string): string | undefined => arn.split(':')[3] || undefined;

/**
 * The instances that stand for the peers among described tasks: one per running task with an address, with the
 * attributes ECS uses for its own Cloud Map registrations plus the node name. The same tasks always give the
 * same attributes (no timestamps), so an unchanged estate needs no write.
 *
 * @param tasks - tasks from DescribeTasks (non-peers are left out, as in the SSM set)
 * @param basename - the node name part before `@`
 * @param region - the function's Region, if known (else the task ARN's)
 * @returns the instances, sorted by id
 * @example
 * peerInstances(tasks, 'shop', 'eu-west-1')[0].attributes.ECS_PEERS_NODE; // 'shop@10.0.1.5'
 */
export const peerInstances = (tasks: readonly Task[], basename: string, region?: string): Instance[] => {
  const instances: Instance[] = [];
  for (const task of tasks) {
    const verdict = taskPeer(task);
    if (!('ip' in verdict)) continue;
    const arn = task.taskArn!;
    const service = task.group?.startsWith('service:') ? task.group.slice('service:'.length) : undefined;
    const cluster = clusterOfTask(arn) ?? task.clusterArn?.slice(task.clusterArn.lastIndexOf('/') + 1);
    const family = familyOf(task.taskDefinitionArn);
    const where = region ?? regionOf(arn);
    const attributes: Record<string, string> = {
      [ATTRIBUTE.ipv4]: verdict.ip,
      [ATTRIBUTE.node]: `${basename}@${verdict.ip}`,
      ...(task.availabilityZone ? { [ATTRIBUTE.zone]: task.availabilityZone } : {}),
      ...(cluster ? { [ATTRIBUTE.cluster]: cluster } : {}),
      ...(service ? { [ATTRIBUTE.service]: service } : {}),
      ...(family ? { [ATTRIBUTE.family]: family } : {}),
      ...(where ? { [ATTRIBUTE.region]: where } : {}),
    };
    instances.push({ id: taskId(arn), attributes });
  }
  return instances.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
};

const sameAttributes = (a: Record<string, string>, b: Record<string, string>): boolean => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
};

/**
 * Compares the registered instances with the desired ones. When ListInstances lists an id twice (moto appends on
 * re-registration; AWS updates in place), the last entry counts, and a gone id is deregistered once per entry.
 *
 * @param current - the instances ListInstances returned
 * @param desired - the instances the peer set needs
 * @param force - register every desired instance, changed or not
 */
export const planInstances = (
  current: readonly Instance[],
  desired: readonly Instance[],
  force = false,
): InstancePlan => {
  const registered = new Map<string, Instance>();
  const entries = new Map<string, number>();
  for (const instance of current) {
    registered.set(instance.id, instance);
    entries.set(instance.id, (entries.get(instance.id) ?? 0) + 1);
  }
  const wanted = new Set(desired.map((instance) => instance.id));
  const stale = desired.filter((instance) => {
    const now = registered.get(instance.id);
    return now === undefined || !sameAttributes(now.attributes, instance.attributes);
  });
  const register = force ? [...desired] : stale;
  const deregister = [...entries]
    .filter(([id]) => !wanted.has(id))
    .flatMap(([id, count]) => Array.from({ length: count }, () => id));
  const changed = stale.length + deregister.length > 0;
  return { register, deregister, unchanged: desired.length - register.length, changed };
};

/**
 * The node names registered instances carry (`ECS_PEERS_NODE`), sorted and unique: what a reader sees now.
 *
 * @param instances - registered instances
 */
export const nodesOf = (instances: readonly Instance[]): string[] =>
  [...new Set(instances.flatMap((instance) => instance.attributes[ATTRIBUTE.node] ?? []))].sort();
