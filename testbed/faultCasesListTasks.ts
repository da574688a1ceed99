/**
 * The fault matrix's ListTasks cases: the run pinned to the ListTasks path (DISCOVERY_PATH=listTasks) for the
 * cluster of the bed (250 peers: moto answers ListTasks in one page, then three DescribeTasks chunks with tags).
 * Transport faults once must be ridden out; lasting ones, malformed answers and pagination loops must fail the
 * run naming ecs:ListTasks, with nothing published.
 */
import { CLUSTER } from './faultBed.js';
import type { FaultCase } from './faultCases.js';
import type { Answer, Fault, FaultRule } from './faultProxy.js';

const env = { DISCOVERY_PATH: 'listTasks' };
const error = /ecs:ListTasks: cluster /;
type Promised = FaultCase['expect'];

const KINDS: { label: string; fault: Fault; once: boolean; expect: Promised }[] = [
  { label: 'throttled once', fault: { kind: 'throttle' }, once: true, expect: 'full' },
  { label: 'throttled on every call', fault: { kind: 'throttle' }, once: false, expect: 'nothing' },
  { label: '503 once', fault: { kind: 'status', status: 503 }, once: true, expect: 'full' },
  { label: 'stalls once', fault: { kind: 'stall' }, once: true, expect: 'full' },
  { label: 'connection reset once', fault: { kind: 'reset' }, once: true, expect: 'full' },
  { label: 'body truncated once', fault: { kind: 'truncate' }, once: true, expect: 'full' },
  { label: 'answers {}', fault: { kind: 'body', body: '{}' }, once: true, expect: 'nothing' },
  { label: 'access denied', fault: { kind: 'error', type: 'AccessDeniedException' }, once: true, expect: 'nothing' },
];

const rewrite =
  (calls: FaultRule['calls'], change: (answer: Answer, request: Answer, call: number) => Answer) => () => [
    { api: 'ListTasks', calls, fault: { kind: 'rewrite' as const, rewrite: change } },
  ];

const transportCases = KINDS.map(({ label, fault, once, expect }): FaultCase => ({
  id: `ListTasks: ${label}`,
  api: 'ListTasks',
  rules: () => [{ api: 'ListTasks', calls: once ? [1] : { from: 1 }, fault }],
  expect,
  ...(expect === 'nothing' ? { error } : { discovery: 'listTasks' as const }),
  env,
}));

const answerCases: FaultCase[] = [
  {
    id: 'ListTasks: a task of another cluster in the list',
    api: 'ListTasks',
    rules: rewrite([1], (page) => ({
      ...page,
      taskArns: [...(page.taskArns ?? []), String(page.taskArns?.[0] ?? '').replace(`/${CLUSTER}/`, '/someone-else/')],
    })),
    expect: 'nothing',
    error,
    env,
  },
  {
    id: 'ListTasks: every page repeats the nextToken (a pagination loop)',
    api: 'ListTasks',
    rules: rewrite({ from: 1 }, (page) => ({ ...page, nextToken: 'same-token' })),
    expect: 'nothing',
    error,
    env,
  },
  {
    id: 'ListTasks: endless pages with fresh tokens',
    api: 'ListTasks',
    rules: rewrite({ from: 1 }, (_page, _request, call) => ({ taskArns: [], nextToken: `page-${call}` })),
    expect: 'nothing',
    error,
    env,
  },
  {
    id: 'ListTasks: a page without taskArns',
    api: 'ListTasks',
    rules: rewrite([1], () => ({})),
    expect: 'nothing',
    error,
    env,
  },
];

// DescribeTasks asked for the tags (`include: ["TAGS"]`) and answered without them: the run cannot tell those
// tasks' tags and must not take them for untagged. It takes the Tagging API instead (which does not ask).
const withoutTags = (answer: Answer, request: Answer): Answer =>
  (request.include ?? []).includes('TAGS')
    ? { ...answer, tasks: (answer.tasks ?? []).map(({ tags: _tags, ...task }: Answer) => task) }
    : answer;

const untoldCases: FaultCase[] = [
  {
    id: 'DescribeTasks (with tags): a middle chunk answered without tags',
    api: 'DescribeTasks',
    rules: () => [{ api: 'DescribeTasks', calls: [2], fault: { kind: 'rewrite', rewrite: withoutTags } }],
    expect: 'full',
    discovery: 'tagging',
    env,
  },
  {
    id: 'DescribeTasks (with tags): every answer without tags',
    api: 'DescribeTasks',
    rules: () => [{ api: 'DescribeTasks', calls: { from: 1 }, fault: { kind: 'rewrite', rewrite: withoutTags } }],
    expect: 'full',
    discovery: 'tagging',
    env,
  },
];

/** Every ListTasks case. */
export const LIST_TASKS_CASES: readonly FaultCase[] = [...transportCases, ...answerCases, ...untoldCases];
