import type { ECSClient, Task } from '@aws-sdk/client-ecs';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { DESCRIBE_TASKS_MAX_ARNS, GET_RESOURCES_MAX_PAGES, GET_RESOURCES_PAGE_SIZE } from '../constants.js';
import { DiscoveryError, describeError, PageLimitError } from '../errors.js';
import { capText } from '../logBounds.js';
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
  /** Every path this run measured, when it took more than one (see `fallback`). */
  costs?: PathCost[];
  /** Why the run left the path it was given for the other one. */
  fallback?: string;
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

/** ListTasks' answer, or the tasks DescribeTasks answered without the tags it was asked for. */
type Listed = { found: Discovered } | { untold: Task[]; calls: number };

/** The Tagging API: every tagged task of the Region, then DescribeTasks of those in the cluster (or all). */
const viaTaggingApi = async (
  clients: { tagging: ResourceGroupsTaggingAPIClient; ecs: ECSClient },
  taskTags: Record<string, string[]>,
  cluster: string | undefined,
  scope: RunScope,
): Promise<Discovered> => {
  const tagged = await getTaskArns(clients.tagging, taskTags, scope);
  const byCluster = groupByCluster(tagged, cluster);
  const described = await describeTasks(clients.ecs, byCluster, scope);
  const inCluster = [...byCluster.values()].reduce((sum, arns) => sum + arns.length, 0);
  const pages = Math.max(1, Math.ceil(tagged.length / 100));
  const shared = described.tasks.filter((task) => task.desiredStatus === 'RUNNING').length;
  const calls = pages + Math.ceil(inCluster / DESCRIBE_TASKS_MAX_ARNS);
  const cost = cluster === undefined ? undefined : { path: 'tagging' as const, calls, shared };
  return { path: 'tagging', ...described, tagged: tagged.length, inCluster, ...(cost ? { cost } : {}) };
};

/**
 * ListTasks of the cluster, then DescribeTasks with the tags. A task described without a `tags` list although
 * the tags were asked for cannot be judged: untagged and "tags not sent" look the same, and taking it for
 * untagged would drop a peer. Such tasks are handed back, not filtered.
 */
const viaListTasks = async (
  clients: { ecs: ECSClient },
  taskTags: Record<string, string[]>,
  cluster: string,
  scope: RunScope,
): Promise<Listed> => {
  const { arns, pages } = await listRunningTasks(clients.ecs, cluster, scope);
  const described = await describeTasks(clients.ecs, new Map([[cluster, arns]]), scope, true);
  const calls = pages + Math.ceil(arns.length / DESCRIBE_TASKS_MAX_ARNS);
  const untold = described.tasks.filter((task) => !Array.isArray(task.tags));
  if (untold.length > 0) return { untold, calls };
  const tasks = described.tasks.filter((task) => hasTags(task, taskTags));
  const shared = tasks.filter((task) => task.desiredStatus === 'RUNNING').length;
  const cost = { path: 'listTasks' as const, calls, shared };
  const found = {
    path: 'listTasks' as const,
    tasks,
    missing: described.missing,
    tagged: tasks.length,
    inCluster: tasks.length,
    cost,
  };
  return { found };
};

const untoldText = (untold: readonly Task[]) =>
  `${untold.length} task(s) described without the tags asked for (include TAGS), e.g. ${capText(untold[0]!.taskArn ?? '?', 200)}`;

/**
 * Finds the tagged tasks. Without a cluster only the Tagging API can find them in every cluster; with one, the
 * caller picks the path (PathChooser) and gets back what it cost. Each path falls back on the other once:
 * - the Tagging API over its page limit in a large Region: ListTasks still finds the cluster's own tasks;
 * - DescribeTasks answering without the tags ListTasks' path needs: the Tagging API does not need them. The
 *   ListTasks cost recorded is then both paths' calls, so the chooser leaves that path.
 * A run never falls back twice: a second fallback fails the run, publishing nothing.
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
  if (cluster === undefined) return viaTaggingApi(clients, taskTags, undefined, scope);
  if (path === 'listTasks') {
    const listed = await viaListTasks(clients, taskTags, cluster, scope);
    if ('found' in listed) return listed.found;
    const tagged = await viaTaggingApi(clients, taskTags, cluster, scope);
    const spent = { path: 'listTasks' as const, calls: listed.calls + tagged.cost!.calls, shared: tagged.cost!.shared };
    return { ...tagged, costs: [spent, tagged.cost!], fallback: `ecs:DescribeTasks: ${untoldText(listed.untold)}` };
  }
  try {
    return await viaTaggingApi(clients, taskTags, cluster, scope);
  } catch (error) {
    // More tagged tasks in the Region than a run pages through: with a cluster, ListTasks still finds its own.
    // Pages that held few tasks are an API that loops, not a large estate: that fails the run.
    const large =
      error instanceof DiscoveryError && error.cause instanceof PageLimitError && error.cause.items >= LARGE_REGION;
    if (!large) throw error;
    const listed = await viaListTasks(clients, taskTags, cluster, scope);
    if (!('found' in listed)) {
      throw new DiscoveryError(
        'ecs:DescribeTasks',
        `cluster ${cluster}: ${untoldText(listed.untold)}; the Tagging API is over its page limit`,
      );
    }
    const over = { path: 'tagging' as const, calls: Number.MAX_SAFE_INTEGER, shared: listed.found.cost!.shared };
    return {
      ...listed.found,
      costs: [over, listed.found.cost!],
      fallback: `tag:GetResources: ${describeError(error.cause)}`,
    };
  }
};
