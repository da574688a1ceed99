import type { ECSClient, Task } from '@aws-sdk/client-ecs';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { DESCRIBE_TASKS_MAX_ARNS, GET_RESOURCES_MAX_PAGES, GET_RESOURCES_PAGE_SIZE } from '../constants.js';
import { DiscoveryError, PageLimitError } from '../errors.js';
import type { RunScope } from '../runScope.js';
import type { DiscoveryPath, PathCost } from './choosePath.js';
import { describeTasks } from './describeTasks.js';
import { getTaskArns } from './getTaskArns.js';
import { listRunningTasks } from './listTasks.js';
import { groupByCluster } from './taskArn.js';

/** Tagged task ARNs over the page limit that make a Region too large for the Tagging API (not a loop). */
const LARGE_REGION = (GET_RESOURCES_MAX_PAGES * GET_RESOURCES_PAGE_SIZE) / 2;

/** What discovery found: the described tasks carrying the tags, in the cluster when one is configured. */
export interface Discovered {
  path: DiscoveryPath;
  tasks: Task[];
  /** ARNs ECS no longer knows (MISSING). */
  missing: string[];
  /** Tagged task ARNs found (the Tagging API: in every cluster; ListTasks: running tagged tasks of the cluster). */
  tagged: number;
  /** Of those, in the configured cluster (or every cluster without one). */
  inCluster: number;
  /** What this discovery cost, for the PathChooser (undefined without a cluster: there is no choice). */
  cost?: PathCost;
  /** Every path this run measured, when it took more than one (the Tagging API over its page limit). */
  costs?: PathCost[];
}

/**
 * Whether a task carries every configured tag key with one of its values (what the Tagging API's TagFilters
 * select).
 *
 * @param task - a task described with its tags
 * @param taskTags - tag key -> accepted values
 */
export const hasTags = (task: Task, taskTags: Record<string, string[]>): boolean => {
  const tags = new Map((task.tags ?? []).map(({ key, value }) => [key, value ?? '']));
  return Object.entries(taskTags).every(([key, values]) => tags.has(key) && values.includes(tags.get(key)!));
};

/**
 * Finds the tagged tasks. Without a cluster only the Tagging API can find them in every cluster; with one, the
 * caller picks the path (PathChooser) and gets back what it cost.
 *
 * @param clients - the tagging and ECS clients
 * @param taskTags - tag key -> accepted values
 * @param cluster - the configured cluster, if any
 * @param scope - the run's scope
 * @param path - the path to take when a cluster is configured
 * @throws DiscoveryError or ConfigError, as getTaskArns, listRunningTasks and describeTasks do
 */
export const discover = async (
  clients: { tagging: ResourceGroupsTaggingAPIClient; ecs: ECSClient },
  taskTags: Record<string, string[]>,
  cluster: string | undefined,
  scope: RunScope,
  path: DiscoveryPath = 'tagging',
): Promise<Discovered> => {
  if (cluster === undefined || path === 'tagging') {
    let tagged: string[];
    try {
      tagged = await getTaskArns(clients.tagging, taskTags, scope);
    } catch (error) {
      // More tagged tasks in the Region than a run pages through: with a cluster, ListTasks still finds its own.
      // Pages that held few tasks are an API that loops, not a large estate: that fails the run.
      const large = error instanceof DiscoveryError && error.cause instanceof PageLimitError && error.cause.items >= LARGE_REGION;
      if (cluster === undefined || !large) throw error;
      const listed = await discover(clients, taskTags, cluster, scope, 'listTasks');
      const over = { path: 'tagging' as const, calls: Number.MAX_SAFE_INTEGER, shared: listed.cost!.shared };
      return { ...listed, cost: listed.cost!, costs: [over, listed.cost!] };
    }
    const byCluster = groupByCluster(tagged, cluster);
    const described = await describeTasks(clients.ecs, byCluster, scope);
    const inCluster = [...byCluster.values()].reduce((sum, arns) => sum + arns.length, 0);
    const pages = Math.max(1, Math.ceil(tagged.length / 100));
    const shared = described.tasks.filter((task) => task.desiredStatus === 'RUNNING').length;
    const calls = pages + Math.ceil(inCluster / DESCRIBE_TASKS_MAX_ARNS);
    const cost = cluster === undefined ? undefined : { path: 'tagging' as const, calls, shared };
    return { path: 'tagging', ...described, tagged: tagged.length, inCluster, ...(cost ? { cost } : {}) };
  }
  const { arns, pages } = await listRunningTasks(clients.ecs, cluster, scope);
  const described = await describeTasks(clients.ecs, new Map([[cluster, arns]]), scope, true);
  const tasks = described.tasks.filter((task) => hasTags(task, taskTags));
  const shared = tasks.filter((task) => task.desiredStatus === 'RUNNING').length;
  const cost = { path: 'listTasks' as const, calls: pages + Math.ceil(arns.length / DESCRIBE_TASKS_MAX_ARNS), shared };
  return { path: 'listTasks', tasks, missing: described.missing, tagged: tasks.length, inCluster: tasks.length, cost };
};
