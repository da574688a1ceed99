/**
 * aws-sdk-client-mock stubs that answer like AWS: GetResources in pages behind tokens, DescribeTasks from a table
 * of tasks (MISSING for unknown ARNs, at most 100 per call), SSM with a stored parameter. One set per test file.
 */
import { DescribeTasksCommand, ECSClient, type DescribeTasksCommandInput, type Task } from '@aws-sdk/client-ecs';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { Config } from '../../lib/config.js';
import type { Trigger } from '../../lib/trigger/index.js';
import { describedTask, taskArn, taskIp } from './mockAws.js';

export const tagging = mockClient(ResourceGroupsTaggingAPIClient);
export const ecs = mockClient(ECSClient);
export const ssm = mockClient(SSMClient);

export const config: Config = {
  peersParameter: '/ecs-peers/shop',
  taskTags: { app: ['shop'] },
  cluster: 'prod',
  nodeBasename: 'shop',
};
export const scheduled: Trigger = { kind: 'schedule', force: false, dryRun: false, failedMessageIds: [] };

/** Serves `arns` through GetResources in pages of the given sizes (short pages before the end, like AWS). */
export const servePages = (arns: string[], sizes: number[]): void => {
  let offset = 0;
  sizes.forEach((size, page) => {
    const last = page === sizes.length - 1;
    const token = page === 0 ? undefined : `token-${page}`;
    tagging.on(GetResourcesCommand, { PaginationToken: token }).resolves({
      ResourceTagMappingList: arns.slice(offset, offset + size).map((ResourceARN) => ({ ResourceARN })),
      PaginationToken: last ? '' : `token-${page + 1}`,
    });
    offset += size;
  });
};

/** Serves `arns` in pages of at most 100. */
export const serveAll = (arns: string[]): void =>
  servePages(
    arns,
    Array.from({ length: Math.max(1, Math.ceil(arns.length / 100)) }, (_, page) =>
      Math.min(100, arns.length - page * 100),
    ),
  );

/** Answers DescribeTasks from a table of tasks, like ECS: MISSING for unknown ARNs, at most 100 per call. */
export const serveTasks = (tasks: Map<string, Task>): void => {
  ecs.on(DescribeTasksCommand).callsFake(async (input: DescribeTasksCommandInput) => {
    const arns = input.tasks ?? [];
    if (arns.length > 100) throw new Error(`DescribeTasks got ${arns.length} ARNs; AWS allows at most 100`);
    return {
      tasks: arns.flatMap((arn) => (tasks.has(arn) ? [tasks.get(arn)!] : [])),
      failures: arns.filter((arn) => !tasks.has(arn)).map((arn) => ({ arn, reason: 'MISSING' })),
    };
  });
};

/** `count` running awsvpc tasks of a cluster, numbered from `from`. */
export const estate = (count: number, cluster = 'prod', from = 0): Map<string, Task> => {
  const tasks = new Map<string, Task>();
  for (let index = from; index < from + count; index += 1) {
    tasks.set(taskArn(cluster, index), describedTask(taskArn(cluster, index), taskIp(index)));
  }
  return tasks;
};

/** The node names of an estate's tasks, sorted. */
export const nodesOf = (tasks: Map<string, Task>): string[] =>
  [...tasks.values()].map((task) => `shop@${task.attachments![0]!.details![0]!.value}`).sort();

/** SSM holding `value` at `version` (or no parameter); PutParameter stores and bumps the version. */
export const serveParameter = (value?: string, version = 1) => {
  const stored = { value, version: value === undefined ? 0 : version };
  ssm.on(GetParameterCommand).callsFake(async () => {
    if (stored.value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
    return { Parameter: { Name: config.peersParameter, Value: stored.value, Version: stored.version } };
  });
  ssm.on(PutParameterCommand).callsFake(async (input: { Value: string }) => {
    stored.value = input.Value;
    stored.version += 1;
    return { Version: stored.version };
  });
  return stored;
};

/** Resets every stub; SSM starts without the parameter. */
export const resetStubs = (): void => {
  tagging.reset();
  ecs.reset();
  ssm.reset();
  serveParameter();
};
