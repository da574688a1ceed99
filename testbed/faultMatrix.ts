/**
 * Runs fault cases through the public handler of the built bundle, each in its own process behind its own fault
 * proxy and on its own parameter, and says what each run did: what it left in the parameter, how long it took,
 * the error it named, its log lines and metrics.
 */
import type { HandlerResult } from '../lib/handler.js';
import { LAST_GOOD, TAGS, type FaultBed, type Stored } from './faultBed.js';
import { judgeInstances } from './faultCloudMap.js';
import { eventOf, type FaultCase } from './faultCases.js';

/** CloudWatch Logs' limit for one log event. */
export const LOG_EVENT_MAX_BYTES = 262_144;

/** What one case did. */
export interface Outcome {
  faultCase: FaultCase;
  /** What the parameter holds afterwards. */
  stored: Stored;
  /** Time to the handler's answer (or to the kill). */
  ms: number;
  /** The run did not answer within the bound (killed, middy's timeout, or late). */
  hung: boolean;
  result?: HandlerResult;
  failure?: { name: string; message: string };
  /** The failure says what the case says it must (the API, or the variable). */
  named: boolean;
  /** An error log line names the failed call or the problem. */
  logged: boolean;
  /** A ReconcileErrors metric was emitted. */
  errorMetric: boolean;
  /** AWS calls the proxy saw, per operation. */
  awsCalls: Record<string, number>;
  /** Calls the case's faults hit: none would make the case prove nothing. */
  faulted: number;
  /** The longest log line, in bytes. */
  longestLogLine: number;
  output: string;
}

/**
 * How long a run may take: the function's timeout less 5 s, the margin the reconciler keeps for its log line and
 * metrics (its own run budget is the remaining time less min(5 s, a quarter)).
 *
 * @param bed - the fault bed
 */
export const runBoundMs = (bed: FaultBed): number => bed.functionTimeoutMs - 5_000;

/** How to run cases. */
export interface MatrixOptions {
  /** A run must answer within this (default: runBoundMs). */
  boundMs?: number;
  /** Cases run at once, each in its own process (default 4). */
  concurrency?: number;
}

const isTimeout = (failure: { name: string; message: string } | undefined) =>
  failure !== undefined && /timeout/i.test(failure.name) && !/ssm:|ecs:|tag:|servicediscovery:/.test(failure.message);

/** What a store may hold after a run that failed: the case's own list, else the last good value only. */
export const leftAfterFailure = (faultCase: FaultCase): readonly Stored[] =>
  faultCase.leftAfterFailure ?? ['unchanged'];

/**
 * The peer set a correct run of the case publishes: the estate's, or that of the cluster the case configures.
 *
 * @param bed - the fault bed
 * @param faultCase - the case
 */
export const fullSetOf = (bed: FaultBed, faultCase: FaultCase): string[] => {
  const cluster = faultCase.env?.ECS_CLUSTER;
  return cluster === undefined || cluster.startsWith('arn:') ? bed.fullSet() : bed.estate.peers(cluster, TAGS);
};

/**
 * Runs one case: a fresh parameter holding the last good value, a proxy with the case's rules, one invocation.
 *
 * @param bed - the fault bed
 * @param faultCase - the case
 * @param options - the bound
 */
export const runCase = async (bed: FaultBed, faultCase: FaultCase, options: MatrixOptions = {}): Promise<Outcome> => {
  const boundMs = options.boundMs ?? runBoundMs(bed);
  const parameter = await bed.newParameter();
  const service = faultCase.store === 'cloudMap' ? await bed.services.newService(LAST_GOOD) : undefined;
  const proxy = await bed.proxy(faultCase.rules());
  const full = fullSetOf(bed, faultCase);
  // A Cloud Map case publishes to Cloud Map alone, so that what it left is the service's instances.
  const store = service === undefined ? {} : { PEERS_PARAMETER: undefined, CLOUD_MAP_SERVICE_ID: service };
  const env = bed.functionEnv(parameter, proxy.endpoint, { ...store, ...faultCase.env });
  const run = await bed.invoke(eventOf(faultCase), env, { killAfterMs: bed.functionTimeoutMs + 5_000 }).answered;
  await proxy.stop();
  const { value } = await bed.read(parameter);
  const stored =
    service === undefined ? bed.judge(value, full) : judgeInstances(await bed.services.nodes(service), full, LAST_GOOD);
  const awsCalls: Record<string, number> = {};
  for (const call of proxy.calls()) awsCalls[call.api] = (awsCalls[call.api] ?? 0) + 1;
  const failure = run.failure;
  const expected = faultCase.error ?? /./;
  const errorLines = run.logs.filter((line) => line.level === 'ERROR');
  return {
    faultCase,
    stored,
    ms: Math.round(run.ms),
    hung: run.hung === true || isTimeout(failure) || run.ms > boundMs,
    ...(run.result ? { result: run.result } : {}),
    ...(failure ? { failure } : {}),
    named: failure !== undefined && expected.test(failure.message),
    logged: errorLines.some((line) => expected.test(JSON.stringify(line))),
    errorMetric: run.logs.some((line) => '_aws' in line && 'ReconcileErrors' in line),
    awsCalls,
    // The handler's return value (RESULT line) is the invocation's response, not a log event.
    longestLogLine: Math.max(
      0,
      ...run.output
        .split('\n')
        .filter((line) => !/^(RESULT|FAILED) /.test(line))
        .map((line) => Buffer.byteLength(line)),
    ),
    faulted: proxy.calls().filter((call) => call.fault !== undefined).length,
    output: run.output,
  };
};

/**
 * Runs cases a few at a time and returns their outcomes in the cases' order.
 *
 * @param bed - the fault bed
 * @param cases - the cases
 * @param options - bound and concurrency
 * @param onOutcome - called as each case ends
 */
export const runMatrix = async (
  bed: FaultBed,
  cases: readonly FaultCase[],
  options: MatrixOptions = {},
  onOutcome: (outcome: Outcome) => void = () => {},
): Promise<Outcome[]> => {
  const outcomes: Outcome[] = new Array(cases.length);
  // Faults that last (every call of an API, or several in a row) take longest: start them first.
  const lasting = (faultCase: FaultCase) =>
    faultCase.rules().some((rule) => rule.calls === undefined || 'from' in rule.calls || rule.calls.length > 1);
  const order = cases.map((_, index) => index).sort((a, b) => Number(lasting(cases[b]!)) - Number(lasting(cases[a]!)));
  let next = 0;
  const worker = async () => {
    while (next < order.length) {
      const index = order[next++]!;
      outcomes[index] = await runCase(bed, cases[index]!, options);
      onOutcome(outcomes[index]!);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return outcomes;
};

/**
 * The ways an outcome broke its case's promise; none when it kept it.
 *
 * @param outcome - what a case did
 */
export const brokenPromises = (outcome: Outcome): string[] => {
  const { faultCase, stored, failure } = outcome;
  const problems: string[] = [];
  if (outcome.faulted === 0 && faultCase.rules().length > 0)
    problems.push('no call met the fault: the case proves nothing');
  if (outcome.hung) problems.push(`hung (${outcome.ms} ms)`);
  if (stored === 'partial' || stored === 'empty' || stored === 'other') problems.push(`published a ${stored} set`);
  const discovery = outcome.result?.tasks.discovery;
  if (faultCase.discovery && outcome.result && discovery !== faultCase.discovery) {
    problems.push(`discovered by ${discovery}, not ${faultCase.discovery}`);
  }
  if (faultCase.boundedLogs && outcome.longestLogLine > LOG_EVENT_MAX_BYTES) {
    problems.push(`logged a ${outcome.longestLogLine}-byte line`);
  }
  switch (faultCase.expect) {
    case 'full':
      if (failure) problems.push(`failed: ${failure.name}: ${failure.message}`);
      if (stored !== 'full' && stored !== 'partial' && stored !== 'empty')
        problems.push(`left the parameter ${stored}`);
      break;
    case 'nothing':
      if (!failure) problems.push(`did not fail (stored: ${stored})`);
      else if (!outcome.named) problems.push(`named no ${faultCase.error}: ${failure.name}: ${failure.message}`);
      if (stored === 'full') problems.push('published although it should have failed');
      else if (!leftAfterFailure(faultCase).includes(stored)) problems.push(`left the store ${stored}`);
      break;
    case 'full-or-nothing':
      if (failure && !outcome.named) problems.push(`named no ${faultCase.error}: ${failure.name}: ${failure.message}`);
      if (stored !== 'full' && !leftAfterFailure(faultCase).includes(stored)) problems.push(`left the store ${stored}`);
      break;
    case 'ignored':
      if (failure) problems.push(`failed: ${failure.name}: ${failure.message}`);
      else if (outcome.result?.ignored === undefined) problems.push('ran instead of ignoring the event');
      if (Object.keys(outcome.awsCalls).length > 0)
        problems.push(`made AWS calls: ${JSON.stringify(outcome.awsCalls)}`);
      if (stored !== 'unchanged') problems.push(`left the parameter ${stored}`);
      break;
  }
  return problems;
};
