/**
 * The fault matrix's cases about inputs rather than answers: bad data in the estate (tasks without a private
 * IPv4, old-format ARNs), configuration the cold start must refuse, and events that must cost no AWS call.
 */
import { bridgeMode, ipv6Only, oldArnPages, oldArnTasks, rewrite } from './faultAnswers.js';
import { ACCOUNT, CLUSTER, REGION, taskEvent } from './faultBed.js';
import type { FaultCase } from './faultCases.js';

// Bad data: what the estate can hold that no peer set can be made from.
export const DATA_CASES: FaultCase[] = [
  {
    id: 'data: every task in bridge/host network mode (no private IPv4)',
    api: 'data',
    rules: rewrite('DescribeTasks', { from: 1 }, bridgeMode('all')),
    expect: 'nothing',
    error: /awsvpc/,
  },
  {
    id: 'data: one task of each DescribeTasks answer in bridge/host network mode',
    api: 'data',
    rules: rewrite('DescribeTasks', { from: 1 }, bridgeMode('first')),
    expect: 'nothing',
    error: /awsvpc/,
  },
  {
    id: 'data: IPv6-only tasks',
    api: 'data',
    rules: rewrite('DescribeTasks', { from: 1 }, ipv6Only),
    expect: 'nothing',
    error: /IPv4|awsvpc/,
  },
  {
    id: 'data: old-format task ARNs without ECS_CLUSTER',
    api: 'data',
    rules: () => [
      ...rewrite('GetResources', { from: 1 }, oldArnPages)(),
      ...rewrite('DescribeTasks', { from: 1 }, oldArnTasks)(),
    ],
    env: { ECS_CLUSTER: undefined },
    expect: 'nothing',
    error: /ECS_CLUSTER/,
  },
  {
    id: 'data: old-format task ARNs with ECS_CLUSTER',
    api: 'data',
    rules: () => [
      ...rewrite('GetResources', { from: 1 }, oldArnPages)(),
      ...rewrite('DescribeTasks', { from: 1 }, oldArnTasks)(),
    ],
    expect: 'full',
  },
];

// Configuration the cold start must refuse, and events that must cost no AWS call.
const OTHER_ACCOUNT = `arn:aws:ecs:${REGION}:999999999999:cluster/${CLUSTER}`;
const OTHER_REGION = `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/${CLUSTER}`;
export const CONFIG_CASES: FaultCase[] = [
  {
    id: 'config: ECS_CLUSTER is the ARN of a cluster in another account',
    api: 'config',
    rules: () => [],
    env: { ECS_CLUSTER: OTHER_ACCOUNT },
    expect: 'nothing',
    error: /ECS_CLUSTER/,
  },
  {
    id: 'config: ECS_CLUSTER is the ARN of a cluster in another Region',
    api: 'config',
    rules: () => [],
    env: { ECS_CLUSTER: OTHER_REGION },
    expect: 'nothing',
    error: /ECS_CLUSTER/,
  },
  {
    id: 'config: a TASK_TAGS key with a control character',
    api: 'config',
    rules: () => [],
    // JSON's own escape: the key holds a BEL character once parsed.
    env: { TASK_TAGS: '{"app\\u0007":"shop"}' },
    expect: 'nothing',
    error: /TASK_TAGS.*tag key/,
  },
  {
    id: 'config: PEERS_PARAMETER longer than SSM allows in a parameter ARN',
    api: 'config',
    rules: () => [],
    env: { PEERS_PARAMETER: `/ecs-peers/${'a'.repeat(990)}` },
    expect: 'nothing',
    error: /PEERS_PARAMETER/,
  },
  {
    id: 'event: a task event of the same-named cluster in another account',
    api: 'event',
    rules: () => [],
    event: taskEvent(OTHER_ACCOUNT),
    expect: 'ignored',
  },
  {
    id: 'event: a task event of the same-named cluster in another Region',
    api: 'event',
    rules: () => [],
    event: taskEvent(OTHER_REGION),
    expect: 'ignored',
  },
  {
    id: 'event: 10,000 SQS messages, 9,999 of them bad',
    api: 'event',
    rules: () => [],
    event: {
      Records: Array.from({ length: 10_000 }, (_, index) => ({
        eventSource: 'aws:sqs',
        // SQS message ids are UUIDs: 36 characters each.
        messageId: `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`,
        body:
          index === 0
            ? JSON.stringify(taskEvent(`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`))
            : 'not an event',
      })),
    },
    expect: 'full',
    boundedLogs: true,
  },
];
