/**
 * Rewritten AWS answers for the fault matrix: pagination that never ends, tasks nobody asked for, tasks without
 * a private IPv4, old-format task ARNs, and the proxy rules that apply them.
 */
import type { Answer, FaultRule } from './faultProxy.js';
import { ACCOUNT, REGION } from './faultBed.js';

/** An operation the run calls. */
export type Api = 'GetResources' | 'DescribeTasks' | 'GetParameter' | 'PutParameter';

export const taskId = (index: number) => index.toString(16).padStart(32, 'f');
export const oldFormat = (arn: string) => arn.replace(/:task\/[^/]+\/([^/]+)$/, ':task/$1');

/** A described task copied under another ARN and address: an answer about a task nobody asked for. */
export const foreignTask =
  (cluster: string) =>
  (answer: Answer): Answer => {
    const [first] = answer.tasks ?? [];
    if (!first) return answer;
    const stranger = JSON.parse(JSON.stringify(first)) as Answer;
    stranger.taskArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${cluster}/${taskId(7)}`;
    for (const attachment of stranger.attachments ?? []) {
      for (const detail of attachment.details ?? [])
        if (detail.name === 'privateIPv4Address') detail.value = '10.254.254.254';
    }
    return { ...answer, tasks: [...answer.tasks, stranger] };
  };

/** Tasks as EC2 `bridge`/`host` network mode describes them: no ENI, no private IPv4. */
export const bridgeMode =
  (which: 'all' | 'first') =>
  (answer: Answer): Answer => ({
    ...answer,
    tasks: (answer.tasks ?? []).map((task: Answer, index: number) =>
      which === 'first' && index > 0
        ? task
        : {
            ...task,
            attachments: [],
            containers: (task.containers ?? []).map((container: Answer) => ({
              ...container,
              networkInterfaces: [],
              networkBindings: [{ containerPort: 4369, hostPort: 4369, protocol: 'tcp' }],
            })),
          },
    ),
  });

/** awsvpc tasks with only an IPv6 address. */
export const ipv6Only = (answer: Answer): Answer => ({
  ...answer,
  tasks: (answer.tasks ?? []).map((task: Answer) => ({
    ...task,
    attachments: (task.attachments ?? []).map((attachment: Answer) => ({
      ...attachment,
      details: (attachment.details ?? [])
        .filter((detail: Answer) => detail.name !== 'privateIPv4Address')
        .concat([{ name: 'ipv6Address', value: 'fd00:ec2::1' }]),
    })),
    containers: (task.containers ?? []).map((container: Answer) => ({ ...container, networkInterfaces: [] })),
  })),
});

export const oldArnPages = (answer: Answer): Answer => ({
  ...answer,
  ResourceTagMappingList: (answer.ResourceTagMappingList ?? []).map((mapping: Answer) => ({
    ...mapping,
    ResourceARN: oldFormat(String(mapping.ResourceARN)),
  })),
});
/**
 * DescribeTasks as an account with old-format ARNs answers it: old ARNs, and, as AWS does (moto does not), tasks
 * of another cluster than the one asked about reported MISSING.
 */
export const oldArnTasks = (answer: Answer, request: Answer): Answer => {
  const asked = (task: Answer) => String(task.clusterArn).endsWith(`/${request.cluster}`);
  const tasks: Answer[] = answer.tasks ?? [];
  return {
    ...answer,
    tasks: tasks.filter(asked).map((task) => ({ ...task, taskArn: oldFormat(String(task.taskArn)) })),
    failures: [
      ...(answer.failures ?? []),
      ...tasks
        .filter((task) => !asked(task))
        .map((task) => ({ arn: oldFormat(String(task.taskArn)), reason: 'MISSING' })),
    ],
  };
};

/** Page 2 (the first request with a token) is answered with its own token, however often it is asked for. */
export const repeatPageToken = (): FaultRule[] => {
  let page2: string | undefined;
  const rewrite = (page: Answer, request: Answer): Answer => {
    page2 ??= request.PaginationToken;
    return request.PaginationToken === page2 ? { ...page, PaginationToken: page2 } : page;
  };
  return [{ api: 'GetResources', calls: { from: 2 }, fault: { kind: 'rewrite', rewrite } }];
};

export const repeatToken = (calls: FaultRule['calls']): FaultRule[] => [
  {
    api: 'GetResources',
    calls,
    fault: { kind: 'rewrite', rewrite: (page, request) => ({ ...page, PaginationToken: request.PaginationToken }) },
  },
];

/** Page 2's request token T1 is answered T2 (moto's); T2 is answered T1: the tokens go round for ever. */
export const tokenCycle = (): FaultRule[] => {
  let first: string | undefined;
  const rewrite = (page: Answer, request: Answer, call: number): Answer => {
    if (call === 2) first = request.PaginationToken;
    return call === 2 || request.PaginationToken === first ? page : { ...page, PaginationToken: first };
  };
  return [{ api: 'GetResources', calls: { from: 2 }, fault: { kind: 'rewrite', rewrite } }];
};

export const emptyPages = (): FaultRule[] => [
  {
    api: 'GetResources',
    calls: { from: 2 },
    fault: {
      kind: 'answer',
      answer: (_, call) => ({ ResourceTagMappingList: [], PaginationToken: `empty-page-${call}` }),
    },
  },
];

export const rewrite =
  (api: Api, calls: FaultRule['calls'], change: (answer: Answer, request: Answer) => Answer): (() => FaultRule[]) =>
  () => [{ api, calls, fault: { kind: 'rewrite', rewrite: change } }];
export const answer =
  (api: Api, body: Answer): (() => FaultRule[]) =>
  () => [{ api, calls: [1], fault: { kind: 'answer', answer: () => body } }];
