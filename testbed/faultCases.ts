/**
 * The fault matrix: every API a run calls, with every fault kind where it means something, plus bad data,
 * configuration and events. Each case says what the issue promises: the FULL set published (a transient fault
 * the retries ride out), or NOTHING published and an error naming what failed (the parameter keeps its last
 * good value), or either of the two (faults after which AWS may or may not have acted).
 */
import type { Answer, Fault, FaultRule } from './faultProxy.js';
import { CLUSTER, SCHEDULED, type Stored } from './faultBed.js';
import { CLOUD_MAP_CASES, type CloudMapApi } from './faultCasesCloudMap.js';
import { LIST_TASKS_CASES } from './faultCasesListTasks.js';
import { CONFIG_CASES, DATA_CASES } from './faultInputs.js';
import {
  answer,
  emptyPages,
  foreignTask,
  repeatPageToken,
  repeatToken,
  rewrite,
  tokenCycle,
  type Api,
} from './faultAnswers.js';

/** What a case promises. */
export type Promised = 'full' | 'nothing' | 'full-or-nothing' | 'ignored';

/** One case of the matrix. */
export interface FaultCase {
  /** Unique title, `API: fault`. */
  id: string;
  /** The API the fault hits (the table's row group): an AWS operation, or config / data / event. */
  api:
    | 'GetResources'
    | 'ListTasks'
    | 'DescribeTasks'
    | 'GetParameter'
    | 'PutParameter'
    | CloudMapApi
    | 'data'
    | 'config'
    | 'event';
  /** `cloudMap`: the run publishes to a Cloud Map service of its own (not to SSM), and is judged by its instances. */
  store?: 'cloudMap';
  /** What the store may hold after a failed run (default: only the last good value). */
  leftAfterFailure?: readonly Stored[];
  /** The proxy's rules, made fresh for each run (some faults keep state across calls). */
  rules: () => FaultRule[];
  expect: Promised;
  /** What the error must say (message), when the run fails. */
  error?: RegExp;
  /** Environment changes for this case (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  event?: unknown;
  /** Every log line stays under CloudWatch Logs' 262,144-byte event limit. */
  boundedLogs?: boolean;
  /** The discovery path the report must name (a run that must stay on its path, or fall back). */
  discovery?: 'tagging' | 'listTasks';
}

const API_NAME: Record<Api, RegExp> = {
  GetResources: /tag:GetResources/,
  DescribeTasks: /ecs:DescribeTasks/,
  GetParameter: /ssm:GetParameter/,
  PutParameter: /ssm:PutParameter/,
};

/** The call a one-off fault hits: a middle page or chunk, where a fault would cut the set short. */
const MIDDLE: Record<Api, number> = { GetResources: 2, DescribeTasks: 2, GetParameter: 1, PutParameter: 1 };

interface Kind {
  label: string;
  fault: Fault;
  /** `once`: the call MIDDLE only; `always`: every call of the API. */
  times: 'once' | 'always';
  expect: Promised;
}

// Faults of the transport and of the protocol, once (retries must ride them out) and for good.
const TRANSPORT: Kind[] = [
  { label: 'throttled once', fault: { kind: 'throttle' }, times: 'once', expect: 'full' },
  { label: 'throttled on every call', fault: { kind: 'throttle' }, times: 'always', expect: 'nothing' },
  { label: '500 once', fault: { kind: 'status', status: 500 }, times: 'once', expect: 'full' },
  { label: '503 once', fault: { kind: 'status', status: 503 }, times: 'once', expect: 'full' },
  { label: '503 on every call', fault: { kind: 'status', status: 503 }, times: 'always', expect: 'nothing' },
  { label: 'stalls once', fault: { kind: 'stall' }, times: 'once', expect: 'full' },
  { label: 'stalls on every call', fault: { kind: 'stall' }, times: 'always', expect: 'nothing' },
  { label: 'connection reset once', fault: { kind: 'reset' }, times: 'once', expect: 'full' },
  { label: 'connection reset on every call', fault: { kind: 'reset' }, times: 'always', expect: 'nothing' },
  { label: 'body truncated once', fault: { kind: 'truncate' }, times: 'once', expect: 'full' },
  { label: 'body truncated on every call', fault: { kind: 'truncate' }, times: 'always', expect: 'nothing' },
  { label: 'invalid JSON once', fault: { kind: 'cut' }, times: 'once', expect: 'full-or-nothing' },
  { label: 'answers {}', fault: { kind: 'body', body: '{}' }, times: 'once', expect: 'nothing' },
  { label: 'answers an empty 200 body', fault: { kind: 'body', body: '' }, times: 'once', expect: 'nothing' },
  {
    label: 'access denied',
    fault: { kind: 'error', type: 'AccessDeniedException' },
    times: 'once',
    expect: 'nothing',
  },
];

// A truncated or garbled PutParameter answer comes after SSM stored the value: the set is full or unchanged.
const afterWrite = (api: Api, kind: Kind): Promised =>
  api === 'PutParameter' && kind.times === 'always' && (kind.fault.kind === 'truncate' || kind.fault.kind === 'cut')
    ? 'full-or-nothing'
    : kind.expect;

const transportCases = (Object.keys(API_NAME) as Api[]).flatMap((api) =>
  TRANSPORT.map((kind): FaultCase => ({
    id: `${api}: ${kind.label}`,
    api,
    rules: () => [{ api, calls: kind.times === 'once' ? [MIDDLE[api]] : { from: 1 }, fault: kind.fault }],
    expect: afterWrite(api, kind),
    error: API_NAME[api],
  })),
);

// Rewrites apply to every call of the API they concern: a rewritten answer on a slow moto may reach a client that
// already timed out and retried, and the case would then prove nothing.
const answerCases: FaultCase[] = [
  {
    id: 'GetResources: page 2 repeats its own PaginationToken',
    api: 'GetResources',
    rules: repeatPageToken,
    expect: 'nothing',
    error: /tag:GetResources/,
  },
  {
    id: 'GetResources: every page from 2 repeats its PaginationToken',
    api: 'GetResources',
    rules: () => repeatToken({ from: 2 }),
    expect: 'nothing',
    error: /tag:GetResources/,
  },
  {
    id: 'GetResources: tokens cycle (page 3 points back to page 2)',
    api: 'GetResources',
    rules: tokenCycle,
    expect: 'nothing',
    error: /tag:GetResources/,
  },
  {
    id: 'GetResources: endless empty pages with fresh tokens',
    api: 'GetResources',
    rules: emptyPages,
    expect: 'nothing',
    error: /tag:GetResources/,
  },
  {
    id: 'GetResources: {} on the last page (page 3)',
    api: 'GetResources',
    rules: () => [{ api: 'GetResources', calls: [3], fault: { kind: 'body', body: '{}' } }],
    expect: 'nothing',
    error: /tag:GetResources/,
  },
  {
    id: 'GetResources: a page entry without ResourceARN',
    api: 'GetResources',
    rules: rewrite('GetResources', { from: 2 }, (page) => ({
      ...page,
      ResourceTagMappingList: [{ Tags: [] }, ...(page.ResourceTagMappingList ?? [])],
    })),
    expect: 'nothing',
    error: /tag:GetResources/,
  },
  {
    id: 'DescribeTasks: answers a task of the cluster nobody asked for',
    api: 'DescribeTasks',
    rules: rewrite('DescribeTasks', { from: 1 }, foreignTask(CLUSTER)),
    expect: 'nothing',
    error: /ecs:DescribeTasks/,
  },
  {
    id: 'DescribeTasks: answers a task of another cluster',
    api: 'DescribeTasks',
    rules: rewrite('DescribeTasks', { from: 1 }, foreignTask('someone-else')),
    expect: 'nothing',
    error: /ecs:DescribeTasks/,
  },
  {
    id: 'DescribeTasks: a task without taskArn',
    api: 'DescribeTasks',
    rules: rewrite('DescribeTasks', { from: 1 }, (a) => ({
      ...a,
      tasks: (a.tasks ?? []).map((task: Answer, index: number) =>
        index === 0 ? { ...task, taskArn: undefined } : task,
      ),
    })),
    expect: 'nothing',
    error: /ecs:DescribeTasks/,
  },
  {
    id: 'DescribeTasks: a failure other than MISSING',
    api: 'DescribeTasks',
    rules: rewrite('DescribeTasks', { from: 1 }, (a) => {
      const [first, ...rest] = a.tasks ?? [];
      return { ...a, tasks: rest, failures: [{ arn: first?.taskArn, reason: 'ACCESS_DENIED', detail: 'injected' }] };
    }),
    expect: 'nothing',
    error: /ecs:DescribeTasks/,
  },
  {
    id: 'DescribeTasks: cluster not found',
    api: 'DescribeTasks',
    rules: () => [
      { api: 'DescribeTasks', calls: { from: 1 }, fault: { kind: 'error', type: 'ClusterNotFoundException' } },
    ],
    expect: 'nothing',
    error: /ecs:DescribeTasks/,
  },
  {
    id: 'GetParameter: answer without Parameter.Value',
    api: 'GetParameter',
    rules: rewrite('GetParameter', { from: 1 }, (a) => ({ Parameter: { ...a.Parameter, Value: undefined } })),
    expect: 'nothing',
    error: /ssm:GetParameter/,
  },
  {
    id: 'GetParameter: answer without Parameter.Version',
    api: 'GetParameter',
    rules: rewrite('GetParameter', { from: 1 }, (a) => ({ Parameter: { ...a.Parameter, Version: undefined } })),
    expect: 'nothing',
    error: /ssm:GetParameter/,
  },
  {
    id: 'PutParameter: answer without Version, nothing stored',
    api: 'PutParameter',
    rules: answer('PutParameter', { Tier: 'Advanced' }),
    expect: 'nothing',
    error: /ssm:PutParameter/,
  },
  {
    id: 'PutParameter: TooManyUpdates once',
    api: 'PutParameter',
    rules: () => [{ api: 'PutParameter', calls: [1], fault: { kind: 'error', type: 'TooManyUpdates' } }],
    expect: 'full',
    error: /ssm:PutParameter/,
  },
  {
    id: 'PutParameter: TooManyUpdates on every call',
    api: 'PutParameter',
    rules: () => [{ api: 'PutParameter', calls: { from: 1 }, fault: { kind: 'error', type: 'TooManyUpdates' } }],
    expect: 'nothing',
    error: /ssm:PutParameter/,
  },
  // The retry budget: faults that last all but the last attempt still end with the full set.
  {
    id: 'GetResources: page 2 throttled on 2 attempts in a row',
    api: 'GetResources',
    rules: () => [{ api: 'GetResources', calls: [2, 3], fault: { kind: 'throttle' } }],
    expect: 'full',
    error: /tag:GetResources/,
  },
  {
    // Adaptive retry slows the client after throttling: four in a row can outlast the run's budget (18 s).
    // Either way, never a part.
    id: 'GetResources: page 2 throttled on 4 attempts in a row',
    api: 'GetResources',
    rules: () => [{ api: 'GetResources', calls: [2, 3, 4, 5], fault: { kind: 'throttle' } }],
    expect: 'full-or-nothing',
    // Wherever the budget runs out, the error names that call.
    error: /tag:GetResources|ecs:DescribeTasks|ssm:GetParameter|ssm:PutParameter/,
  },
  {
    id: 'PutParameter: TooManyUpdates twice',
    api: 'PutParameter',
    rules: () => [{ api: 'PutParameter', calls: [1, 2], fault: { kind: 'error', type: 'TooManyUpdates' } }],
    expect: 'full',
    error: /ssm:PutParameter/,
  },
  {
    id: 'GetParameter: answer about another parameter',
    api: 'GetParameter',
    rules: rewrite('GetParameter', { from: 1 }, (a) => ({ Parameter: { ...a.Parameter, Name: '/someone/else' } })),
    expect: 'nothing',
    error: /ssm:GetParameter/,
  },
  {
    id: 'PutParameter: answer with a Version not above the one read, nothing stored',
    api: 'PutParameter',
    rules: answer('PutParameter', { Version: 1, Tier: 'Advanced' }),
    expect: 'nothing',
    error: /ssm:PutParameter/,
  },
];

/** Every case of the matrix. */
export const FAULT_CASES: readonly FaultCase[] = [
  ...transportCases,
  ...answerCases,
  ...LIST_TASKS_CASES,
  ...CLOUD_MAP_CASES,
  ...DATA_CASES,
  ...CONFIG_CASES,
];

/** A scheduled run unless the case says otherwise. */
export const eventOf = (faultCase: FaultCase): unknown => faultCase.event ?? SCHEDULED;
