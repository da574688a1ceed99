/**
 * Races between runs of the built bundle: an older run (A) held somewhere by its fault proxy while the estate
 * changes and a newer run (B) publishes; then A is let go. The newer discovery's value must be what is stored,
 * whatever A does afterwards, including work that goes on after A's invocation has ended (middy's timeout).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePeerSet } from '../lib/peerSet/index.js';
import type { BuiltInvocation, BuiltRun } from './builtBundle.js';
import type { FaultBed } from './faultBed.js';
import { SCHEDULED, TAGS } from './faultBed.js';
import type { FaultRule } from './faultProxy.js';

/** One race. */
export interface Race {
  id: string;
  /** A's proxy rules, given the promise that lets A go. */
  holdA: (release: Promise<void>) => FaultRule[];
  /** The API call A must have reached before the estate changes and B runs (`arrived`: at the proxy, not answered). */
  heldAt: { api: string; calls: number; arrived?: boolean };
  /** A's function timeout: short when A's invocation is to end mid-flight. */
  timeoutMsA?: number;
  /** Wait for A's invocation to end (middy's timeout) before B runs. */
  waitForAnswerA?: boolean;
  /** A is the command line's `run --write` instead of the function. */
  cliA?: boolean;
}

/** What a race did. */
export interface RaceOutcome {
  id: string;
  /** The parameter holds A's older set after B published the newer one. */
  staleOverwrite: boolean;
  /** A's process did not end within the bound after it was let go. */
  hung: boolean;
  problems: string[];
  a?: { failure?: string; written?: boolean; report?: unknown };
  b?: { failure?: string; written?: boolean };
}

export const RACES: readonly Race[] = [
  {
    id: 'overlapping runs: the older discovery (DescribeTasks answered late) ends after the newer run wrote',
    holdA: (release) => [{ api: 'DescribeTasks', calls: { from: 1 }, fault: { kind: 'hold', release } }],
    heldAt: { api: 'DescribeTasks', calls: 1 },
  },
  {
    id: 'overlapping runs: the older run read the parameter before the newer run wrote',
    holdA: (release) => [{ api: 'GetParameter', calls: [1], fault: { kind: 'hold', release } }],
    heldAt: { api: 'GetParameter', calls: 1 },
  },
  {
    id: 'invocation ends mid-flight (middy timeout) while DescribeTasks is answered late',
    holdA: (release) => [{ api: 'DescribeTasks', calls: { from: 1 }, fault: { kind: 'hold', release } }],
    heldAt: { api: 'DescribeTasks', calls: 1 },
    timeoutMsA: 10_000,
    waitForAnswerA: true,
  },
  {
    id: 'invocation ends mid-flight (middy timeout) while its PutParameter is stalled',
    holdA: (release) => [{ api: 'PutParameter', calls: { from: 1 }, fault: { kind: 'gate', open: release } }],
    heldAt: { api: 'PutParameter', calls: 1, arrived: true },
    // Long enough for the write to start: the run writes only with 3 s of its budget (60% of this) left.
    timeoutMsA: 15_000,
    waitForAnswerA: true,
  },
  {
    id: "the CLI's run --write (DescribeTasks answered late) ends after the function wrote",
    holdA: (release) => [{ api: 'DescribeTasks', calls: { from: 1 }, fault: { kind: 'hold', release } }],
    heldAt: { api: 'DescribeTasks', calls: 1 },
    cliA: true,
  },
];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `npm run cli -- run --write` with the built bundle, configured like the function, as an invocation. */
const startCli = (bundle: string, env: Record<string, string>): BuiltInvocation => {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/cli.ts',
      'run',
      '--write',
      '--bundle',
      bundle,
      '--parameter',
      env.PEERS_PARAMETER!,
      '--tags',
      env.TASK_TAGS!,
      '--basename',
      env.NODE_BASENAME!,
      '--cluster',
      env.ECS_CLUSTER!,
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('AWS_'))),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const started = performance.now();
  const exited = new Promise<BuiltRun>((resolve) =>
    child.once('close', (code) => {
      const ms = performance.now() - started;
      const failure = /ecs-peers: (.*)/.exec(output)?.[1];
      resolve(
        code === 0
          ? { ms, logs: [], output }
          : { failure: { name: 'CliError', message: failure ?? output.slice(-500) }, ms, logs: [], output },
      );
    }),
  );
  return { answered: exited, exited, kill: () => child.kill('SIGKILL') };
};

let raceCount = 0;

const until = async (what: string, ready: () => boolean, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`race: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

/**
 * Runs one race in a cluster of its own (four peers), so it changes nothing the other cases see.
 *
 * @param bed - the fault bed
 * @param race - the race
 */
export const runRace = async (bed: FaultBed, race: Race): Promise<RaceOutcome> => {
  raceCount += 1;
  const cluster = `race-${process.pid}-${raceCount}`;
  const [leaving] = await bed.estate.run({ cluster, count: 4, tags: TAGS });
  const older = bed.estate.peers(cluster, TAGS);
  const parameter = await bed.newParameter();
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const proxyA = await bed.proxy(race.holdA(released));
  const proxyB = await bed.proxy();
  const env = (endpoint: string) => bed.functionEnv(parameter, endpoint, { ECS_CLUSTER: cluster });
  const problems: string[] = [];
  const outcome: RaceOutcome = { id: race.id, staleOverwrite: false, hung: false, problems };
  const a = race.cliA
    ? startCli(bed.bundle, env(proxyA.endpoint))
    : bed.invoke(SCHEDULED, env(proxyA.endpoint), {
        ...(race.timeoutMsA ? { timeoutMs: race.timeoutMsA } : {}),
        killAfterMs: bed.functionTimeoutMs + 10_000,
      });
  try {
    // A held answer must be in hand (moto answered it before the estate changes); a gated request only arrived.
    const reached = () =>
      Math.max(proxyA.held(race.heldAt.api), race.heldAt.arrived ? proxyA.count(race.heldAt.api) : 0);
    await until(`A reaching ${race.heldAt.api}`, () => reached() >= race.heldAt.calls, 15_000);
    if (race.waitForAnswerA) {
      const answer = await a.answered;
      outcome.a = { ...(answer.failure ? { failure: `${answer.failure.name}: ${answer.failure.message}` } : {}) };
    }
    // The estate changes: a task leaves, another joins. B sees it and publishes the newer set.
    await bed.estate.stop(leaving!);
    await bed.estate.run({ cluster, count: 1, tags: TAGS });
    const newer = bed.estate.peers(cluster, TAGS);
    const b = await bed.invoke(SCHEDULED, env(proxyB.endpoint)).exited;
    outcome.b = {
      ...(b.failure ? { failure: `${b.failure.name}: ${b.failure.message}` } : {}),
      ...(b.result ? { written: b.result.written } : {}),
    };
    const afterB = await bed.read(parameter);
    if (afterB.value !== encodePeerSet(newer))
      problems.push(`B did not publish the newer set: ${b.failure?.message ?? afterB.value}`);

    release();
    const ended = await Promise.race([a.exited, new Promise<undefined>((resolve) => setTimeout(resolve, 15_000))]);
    if (ended === undefined) {
      outcome.hung = true;
      problems.push('A was still running 15 s after it was let go');
      a.kill();
    } else if (!race.waitForAnswerA) {
      outcome.a = {
        ...(ended.failure ? { failure: `${ended.failure.name}: ${ended.failure.message}` } : {}),
        ...(ended.result ? { written: ended.result.written } : {}),
        ...(ended.result
          ? {
              report: {
                nodes: ended.result.nodes,
                version: ended.result.version,
                apiCalls: ended.result.apiCalls,
                durationMs: ended.result.durationMs,
              },
            }
          : {}),
      };
    }
    const final = await bed.read(parameter);
    if (final.value === encodePeerSet(older)) {
      outcome.staleOverwrite = true;
      problems.push('stale overwrite: the parameter holds the older discovery');
    } else if (final.value !== encodePeerSet(newer)) {
      problems.push(`the parameter holds neither set: ${final.value}`);
    }
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  } finally {
    release();
    a.kill();
    await Promise.all([proxyA.stop(), proxyB.stop()]);
  }
  return outcome;
};
