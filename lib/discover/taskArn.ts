import { LOG_LIST_MAX } from '../constants.js';
import { ConfigError } from '../errors.js';
import { capText, listSample } from '../logBounds.js';

/**
 * The cluster name a task ARN names. New-format ARNs (`...:task/CLUSTER/ID`) carry it; old-format ones
 * (`...:task/ID`) do not.
 *
 * @param taskArn - an ECS task ARN
 * @returns the cluster name, or undefined for an old-format ARN
 */
export const clusterOfTask = (taskArn: string): string | undefined => {
  const resource = taskArn.slice(taskArn.indexOf(':task/') + ':task/'.length);
  const parts = resource.split('/');
  return parts.length >= 2 && parts[0] ? parts[0] : undefined;
};

/**
 * Groups task ARNs by cluster name, keeping only `cluster`'s tasks when one is given. An old-format ARN names
 * no cluster: with ECS_CLUSTER it is described in that cluster (DescribeTasks reports it MISSING if it runs
 * elsewhere); without ECS_CLUSTER there is no cluster to ask, and guessing ECS's `default` would drop it.
 *
 * @param taskArns - ARNs from the Tagging API (every cluster of the Region)
 * @param cluster - the configured cluster, if any
 * @throws ConfigError when an old-format ARN comes up and no cluster is configured
 */
export const groupByCluster = (taskArns: readonly string[], cluster?: string): Map<string, string[]> => {
  const groups = new Map<string, string[]>();
  const unplaced: string[] = [];
  for (const arn of taskArns) {
    const name = clusterOfTask(arn) ?? cluster;
    if (name === undefined) unplaced.push(capText(arn, 200));
    else if (cluster === undefined || name === cluster) {
      const group = groups.get(name);
      if (group) group.push(arn);
      else groups.set(name, [arn]);
    }
  }
  if (unplaced.length > 0) {
    throw new ConfigError(
      `${unplaced.length} tagged task(s) have an old-format ARN that names no cluster (${listSample(unplaced, LOG_LIST_MAX / 4)}): ` +
        'set ECS_CLUSTER to the cluster they run in (or move the account to the long ARN format, ECS account ' +
        'setting taskLongArnFormat); the peer set was not published and keeps its last value',
    );
  }
  return groups;
};
