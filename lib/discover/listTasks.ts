import { ListTasksCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { LIST_TASKS_MAX_PAGES, LIST_TASKS_PAGE_SIZE } from '../constants.js';
import { DiscoveryError, describeError, InvalidResponseError } from '../errors.js';
import { capText } from '../logBounds.js';
import { awsCall, type RunScope } from '../runScope.js';
import { clusterOfTask } from './taskArn.js';

const API = 'ecs:ListTasks';
const TASK_ARN = /^arn:[\w-]+:ecs:[\w-]+:\d{12}:task\/./;

/**
 * Lists the ARNs of a cluster's tasks whose desired status is RUNNING, every page (100 a page). Each page must
 * carry its list, of task ARNs of that cluster; a repeated nextToken or more than LIST_TASKS_MAX_PAGES pages is
 * an error, not a loop.
 *
 * @param client - ECS client
 * @param cluster - the cluster name
 * @param scope - the run's scope (signal, deadline, call counters)
 * @returns the task ARNs and the number of pages read
 * @throws DiscoveryError naming ecs:ListTasks
 */
export const listRunningTasks = async (
  client: ECSClient,
  cluster: string,
  scope: RunScope,
): Promise<{ arns: string[]; pages: number }> => {
  const arns = new Set<string>();
  const seenTokens = new Map<string, number>();
  let nextToken: string | undefined;
  for (let number = 1; ; number += 1) {
    try {
      if (number > LIST_TASKS_MAX_PAGES) {
        throw new InvalidResponseError(
          `more than ${LIST_TASKS_MAX_PAGES} pages (${LIST_TASKS_MAX_PAGES * LIST_TASKS_PAGE_SIZE} running tasks) in cluster ${cluster}`,
        );
      }
      const input = { cluster, desiredStatus: 'RUNNING' as const, maxResults: LIST_TASKS_PAGE_SIZE, ...(nextToken ? { nextToken } : {}) };
      const answer = await awsCall(scope, API, (abortSignal) => client.send(new ListTasksCommand(input), { abortSignal }));
      const { taskArns } = answer ?? {};
      if (!Array.isArray(taskArns)) throw new InvalidResponseError(`invalid answer (page ${number}): taskArns: not a list`);
      for (const arn of taskArns) {
        const inCluster = typeof arn === 'string' && TASK_ARN.test(arn) && (clusterOfTask(arn) ?? cluster) === cluster;
        if (!inCluster) {
          throw new InvalidResponseError(`invalid answer (page ${number}): ${capText(String(arn), 200)} is no task of ${cluster}`);
        }
        arns.add(arn);
      }
      if (answer.nextToken !== undefined && typeof answer.nextToken !== 'string') {
        throw new InvalidResponseError(`invalid answer (page ${number}): nextToken: not a string`);
      }
      nextToken = answer.nextToken;
      if (!nextToken) return { arns: [...arns], pages: number };
      const earlier = seenTokens.get(nextToken);
      if (earlier !== undefined) {
        throw new InvalidResponseError(`page ${number} returned the nextToken page ${earlier} returned (a pagination loop)`);
      }
      seenTokens.set(nextToken, number);
    } catch (error) {
      throw new DiscoveryError(API, `cluster ${cluster}: ${describeError(error)}`, { cause: error });
    }
  }
};
