import { DescribeTasksCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';
import pLimit from 'p-limit';
import * as z from 'zod/mini';
import { checkAnswer } from '../answer.js';
import { DESCRIBE_TASKS_CONCURRENCY, DESCRIBE_TASKS_MAX_ARNS } from '../constants.js';
import { DiscoveryError, InvalidResponseError, describeError } from '../errors.js';
import { capText } from '../logBounds.js';
import { awsCall, type RunScope } from '../runScope.js';

const API = 'ecs:DescribeTasks';

// What the peer decision reads of each task; ECS always sends these, a task without them cannot be judged.
const answerSchema = z.object({
  tasks: z.array(
    z.object({
      taskArn: z.string().check(z.minLength(1)),
      lastStatus: z.string(),
      desiredStatus: z.string(),
      tags: z.optional(z.array(z.object({ key: z.optional(z.string()), value: z.optional(z.string()) }))),
    }),
  ),
  failures: z.optional(z.array(z.object({ arn: z.optional(z.string()), reason: z.optional(z.string()) }))),
});

/** What DescribeTasks said about a set of task ARNs. */
export interface DescribedTasks {
  tasks: Task[];
  /** ARNs ECS no longer knows (failure reason MISSING): gone tasks, dropped. */
  missing: string[];
}

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, index) => items.slice(index * size, (index + 1) * size));

/** Reads one answer: every task asked for is described or reported failed, and nothing else is in it. */
const accountFor = (
  input: { cluster: string; tasks: string[] },
  tasks: Task[],
  failures: { arn?: string; reason?: string; detail?: string }[],
) => {
  const asked = new Set(input.tasks);
  const answered = new Set<string>();
  const missing: string[] = [];
  for (const task of tasks) {
    const arn = task.taskArn!; // checked by answerSchema
    if (!asked.has(arn)) throw new InvalidResponseError(`invalid answer: task ${capText(arn, 200)} was not asked for`);
    answered.add(arn);
  }
  for (const failure of failures) {
    if (failure.reason !== 'MISSING') {
      const detail = failure.detail ? ` (${capText(failure.detail, 500)})` : '';
      const reason = capText(failure.reason ?? 'no reason', 200);
      throw new DiscoveryError(API, `task ${capText(failure.arn ?? '?', 200)} failed: ${reason}${detail}`);
    }
    if (failure.arn === undefined || !asked.has(failure.arn)) {
      throw new InvalidResponseError(
        `invalid answer: a MISSING failure for ${capText(failure.arn ?? 'no ARN', 200)}, which was not asked for`,
      );
    }
    answered.add(failure.arn);
    missing.push(failure.arn);
  }
  // A task neither described nor reported failed would silently shrink the set: that is a partial discovery.
  const unanswered = input.tasks.filter((arn) => !answered.has(arn));
  if (unanswered.length > 0) {
    throw new InvalidResponseError(`no answer for ${unanswered.length} task(s), e.g. ${capText(unanswered[0]!, 200)}`);
  }
  return missing;
};

/**
 * Describes tasks cluster by cluster, in chunks of at most 100 ARNs, several chunks at a time.
 *
 * @param client - ECS client
 * @param taskArnsByCluster - cluster name -> task ARNs in it
 * @param scope - the run's scope (signal, deadline, call counters)
 * @param withTags - ask for each task's tags too (`include: ["TAGS"]`), for tasks found without the Tagging API
 * @throws DiscoveryError when a call fails, reports a failure other than MISSING, leaves a task unaccounted for,
 *   or answers with a task it was not asked for or without the fields the run reads
 */
export const describeTasks = async (
  client: ECSClient,
  taskArnsByCluster: ReadonlyMap<string, readonly string[]>,
  scope: RunScope,
  withTags = false,
): Promise<DescribedTasks> => {
  const limit = pLimit(DESCRIBE_TASKS_CONCURRENCY);
  const requests = [...taskArnsByCluster].flatMap(([cluster, arns]) =>
    chunk(arns, DESCRIBE_TASKS_MAX_ARNS).map((tasks) => ({ cluster, tasks, ...(withTags ? { include: ['TAGS' as const] } : {}) })),
  );
  const described: DescribedTasks = { tasks: [], missing: [] };
  let failed = false;
  const describe = async (input: { cluster: string; tasks: string[]; include?: 'TAGS'[] }): Promise<void> => {
    if (failed) return; // the run has failed already: send nothing more
    try {
      const answer = checkAnswer(
        answerSchema,
        await awsCall(scope, API, (abortSignal) => client.send(new DescribeTasksCommand(input), { abortSignal })),
        `cluster ${input.cluster}`,
      );
      const tasks = answer.tasks ?? [];
      described.missing.push(...accountFor(input, tasks, answer.failures ?? []));
      described.tasks.push(...tasks);
    } catch (error) {
      if (error instanceof DiscoveryError) throw error;
      throw new DiscoveryError(API, `cluster ${input.cluster}: ${describeError(error)}`, { cause: error });
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
