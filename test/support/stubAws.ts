/**
 * aws-sdk-client-mock stubs that answer like AWS: GetResources in pages behind tokens, DescribeTasks from a table
 * of tasks (MISSING for unknown ARNs, at most 100 per call), SSM with a stored parameter. One set per test file.
 */
import { DescribeTasksCommand, ECSClient, type DescribeTasksCommandInput, type Task } from '@aws-sdk/client-ecs';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import {
  GetParameterCommand,
  GetParametersCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
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

/**
 * SSM holding `value` at `version` in the main parameter (or no parameter), and no other parameter yet:
 * GetParameter and GetParameters answer from the store, PutParameter stores and bumps a version.
 * Returns the main parameter's entry; `store` holds every parameter by name.
 */
export const serveParameter = (value?: string, version = 1) => {
  const stored = { value, version: value === undefined ? 0 : version };
  const store = new Map<string, { value?: string; version: number }>([[config.peersParameter!, stored]]);
  ssm.on(GetParameterCommand).callsFake(async (input: { Name: string }) => {
    const entry = store.get(input.Name);
    if (entry?.value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
    return { Parameter: { Name: input.Name, Value: entry.value, Version: entry.version } };
  });
  ssm.on(GetParametersCommand).callsFake(async (input: { Names: string[] }) => ({
    Parameters: input.Names.flatMap((Name) => {
      const entry = store.get(Name);
      return entry?.value === undefined ? [] : [{ Name, Value: entry.value, Version: entry.version }];
    }),
    InvalidParameters: input.Names.filter((name) => store.get(name)?.value === undefined),
  }));
  ssm.on(PutParameterCommand).callsFake(async (input: { Name: string; Value: string }) => {
    const entry = store.get(input.Name) ?? { version: 0 };
    store.set(input.Name, entry);
    entry.value = input.Value;
    entry.version += 1;
    return { Version: entry.version };
  });
  return Object.assign(stored, { store });
};

/** Resets every stub; SSM starts without the parameter. */
export const resetStubs = (): void => {
  tagging.reset();
  ecs.reset();
  ssm.reset();
  serveParameter();
};
