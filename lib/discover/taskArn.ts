import { ECS_DEFAULT_CLUSTER } from '../constants.js';

/**
 * The cluster name a task ARN names. New-format ARNs (`...:task/CLUSTER/ID`) carry it; old-format ones
 * (`...:task/ID`) do not, and belong to `fallback`.
 *
 * @param taskArn - an ECS task ARN
 * @param fallback - cluster for old-format ARNs (the configured cluster, else ECS's `default`)
 */
export const clusterOfTask = (taskArn: string, fallback = ECS_DEFAULT_CLUSTER): string => {
  const resource = taskArn.slice(taskArn.indexOf(':task/') + ':task/'.length);
  const parts = resource.split('/');
  return parts.length >= 2 && parts[0] ? parts[0] : fallback;
};

/**
 * Groups task ARNs by cluster name, keeping only `cluster`'s tasks when one is given.
 *
 * @param taskArns - ARNs from the Tagging API (every cluster of the Region)
 * @param cluster - the configured cluster, if any
 */
export const groupByCluster = (taskArns: readonly string[], cluster?: string): Map<string, string[]> => {
  const groups = new Map<string, string[]>();
  for (const arn of taskArns) {
    const name = clusterOfTask(arn, cluster);
    if (cluster !== undefined && name !== cluster) continue;
    groups.set(name, [...(groups.get(name) ?? []), arn]);
  }
  return groups;
};
