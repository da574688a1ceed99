import { DescribeTasksCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';
import pLimit from 'p-limit';
import { countedCall, type ApiCalls } from '../apiCalls.js';
import { DESCRIBE_TASKS_CONCURRENCY, DESCRIBE_TASKS_MAX_ARNS } from '../constants.js';
import { DiscoveryError, describeError } from '../errors.js';

const API = 'ecs:DescribeTasks';

/** What DescribeTasks said about a set of task ARNs. */
export interface DescribedTasks {
  tasks: Task[];
  /** ARNs ECS no longer knows (failure reason MISSING): gone tasks, dropped. */
  missing: string[];
}

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, index) => items.slice(index * size, (index + 1) * size));

/**
 * Describes tasks cluster by cluster, in chunks of at most 100 ARNs, several chunks at a time.
 *
 * @param client - ECS client
 * @param taskArnsByCluster - cluster name -> task ARNs in it
 * @param calls - the run's API call counters
 * @throws DiscoveryError when a call fails, reports a failure other than MISSING, or leaves a task unaccounted for
 */
export const describeTasks = async (
  client: ECSClient,
  taskArnsByCluster: ReadonlyMap<string, readonly string[]>,
  calls: ApiCalls,
): Promise<DescribedTasks> => {
  const limit = pLimit(DESCRIBE_TASKS_CONCURRENCY);
  const requests = [...taskArnsByCluster].flatMap(([cluster, arns]) =>
    chunk(arns, DESCRIBE_TASKS_MAX_ARNS).map((tasks) => ({ cluster, tasks })),
  );
  const described: DescribedTasks = { tasks: [], missing: [] };
  let failed = false;
  const describe = async (input: { cluster: string; tasks: string[] }): Promise<void> => {
    if (failed) return; // the run has failed already: send nothing more
    let response;
    try {
      response = await countedCall(calls, API, () => client.send(new DescribeTasksCommand(input)));
    } catch (error) {
      throw new DiscoveryError(API, `cluster ${input.cluster}: ${describeError(error)}`, { cause: error });
    }
    const answered = new Set<string>();
    for (const task of response.tasks ?? []) {
      if (task.taskArn) answered.add(task.taskArn);
      described.tasks.push(task);
    }
    for (const failure of response.failures ?? []) {
      if (failure.reason !== 'MISSING') {
        const detail = failure.detail ? ` (${failure.detail})` : '';
        throw new DiscoveryError(API, `task ${failure.arn ?? '?'} failed: ${failure.reason ?? 'no reason'}${detail}`);
      }
      if (failure.arn) {
        answered.add(failure.arn);
        described.missing.push(failure.arn);
      }
    }
    // A task neither described nor reported failed would silently shrink the set: that is a partial discovery.
    const unanswered = input.tasks.filter((arn) => !answered.has(arn));
    if (unanswered.length > 0) {
      throw new DiscoveryError(
        API,
        `cluster ${input.cluster}: no answer for ${unanswered.length} task(s), e.g. ${unanswered[0]}`,
      );
    }
  };

  await Promise.all(
    requests.map((input) =>
      limit(() =>
        describe(input).catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      ),
    ),
  );
  return described;
};
