import { DescribeTasksCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';
import pLimit from 'p-limit';
import { countCall, type ApiCalls } from '../apiCalls.js';
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
 * @throws DiscoveryError when a call fails or reports a failure other than MISSING
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
  const responses = await Promise.all(
    requests.map((input) =>
      limit(async () => {
        countCall(calls, API);
        try {
          return await client.send(new DescribeTasksCommand(input));
        } catch (error) {
          throw new DiscoveryError(API, `cluster ${input.cluster}: ${describeError(error)}`, { cause: error });
        }
      }),
    ),
  );

  const described: DescribedTasks = { tasks: [], missing: [] };
  for (const response of responses) {
    described.tasks.push(...(response.tasks ?? []));
    for (const failure of response.failures ?? []) {
      if (failure.reason !== 'MISSING') {
        const detail = failure.detail ? ` (${failure.detail})` : '';
        throw new DiscoveryError(API, `task ${failure.arn ?? '?'} failed: ${failure.reason ?? 'no reason'}${detail}`);
      }
      if (failure.arn) described.missing.push(failure.arn);
    }
  }
  return described;
};
