/**
 * Builds and invokes the real Lambda bundle in child processes, as Lambda would run it: what the template
 * checks and the IAM test use to show that the artifact, not the TypeScript sources, works.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { HandlerResult } from '../lib/handler.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INVOKER = path.join(root, 'testbed/invokeBuilt.mjs');

/** The Lambda runtime is nodejs22.x: refuse to prove anything with another Node.js. */
export const assertNode22 = (): void => {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    throw new Error(
      `Node.js ${process.versions.node} runs this, the Lambda runtime is nodejs22.x: run it with node_modules/.bin/node ` +
        '(npm scripts put it first on PATH; bash scripts/setup.sh node installs it)',
    );
  }
};

/**
 * Bundles the functions with esbuild.config.mjs into a fresh temporary folder (not dist/, which other runs use).
 *
 * @returns the path of the reconciler bundle, `<tmp>/reconcile/index.mjs`
 */
export const buildBundle = async (): Promise<string> => {
  const outdir = await mkdtemp(path.join(tmpdir(), 'ecs-peers-build-'));
  await run(process.execPath, [path.join(root, 'esbuild.config.mjs')], {
    env: { ...process.env, ECS_PEERS_OUTDIR: outdir },
  });
  return path.join(outdir, 'reconcile/index.mjs');
};

/** One invocation of a built bundle. */
export interface BuiltRun {
  /** The handler's return value, when it returned. */
  result?: HandlerResult;
  /** The error it threw, when it threw (or failed at import). */
  failure?: { name: string; message: string; cause?: Record<string, unknown> };
  /** The process was killed before the handler answered (`killAfterMs`). */
  hung?: boolean;
  /** Milliseconds from the start of the process to the handler's answer (or to the kill). */
  ms: number;
  /** Its JSON log lines (Powertools Logger and the EMF metrics blobs). */
  logs: Record<string, unknown>[];
  output: string;
}

/** How to invoke. */
export interface InvokeOptions {
  /** The function's timeout: what `context.getRemainingTimeInMillis()` counts down from (default 30 s, as deployed). */
  timeoutMs?: number;
  /** Kill the process this long after its start, answered or not (default 60 s). */
  killAfterMs?: number;
  /**
   * After the first reading of the remaining time (the handler's, for the run's budget), the invocation has only
   * this long left: middy's early timeout, read next, then fires before the run's own budget runs out.
   */
  laterRemainingMs?: number;
}

/** An invocation under way: the handler's answer, and the end of the process (work may go on after the answer). */
export interface BuiltInvocation {
  /** Resolves when the handler answers, or when the process ends or is killed without an answer. */
  answered: Promise<BuiltRun>;
  /** Resolves when the process has ended, with the whole run (logs written after the answer included). */
  exited: Promise<BuiltRun>;
  kill: () => void;
}

const parseLogs = (stdout: string, stderr: string): Record<string, unknown>[] =>
  // Powertools writes warnings and errors to stderr, the rest to stdout.
  [...stdout.split('\n'), ...stderr.split('\n')].flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

const runFrom = (stdout: string, stderr: string, ms: number, hung: boolean): BuiltRun => {
  const logs = parseLogs(stdout, stderr);
  const output = `${stdout}${stderr}`;
  const answer = stdout.split('\n').find((line) => line.startsWith('RESULT ') || line.startsWith('FAILED '));
  if (answer?.startsWith('RESULT ')) return { result: JSON.parse(answer.slice(7)) as HandlerResult, ms, logs, output };
  if (answer?.startsWith('FAILED ')) return { failure: JSON.parse(answer.slice(7)), ms, logs, output };
  if (hung) return { hung: true, ms, logs, output };
  return {
    failure: { name: 'NoAnswer', message: `the bundle neither returned nor threw:\n${output.slice(-2000)}` },
    ms,
    logs,
    output,
  };
};

/**
 * Starts one invocation of a built bundle in a fresh Node.js process whose environment is only `env` (plus PATH
 * and HOME): nothing leaks from this process, credentials included. The event goes through a file, so batches
 * of any size fit.
 *
 * @param bundle - path of the built `index.mjs`
 * @param event - the Lambda event
 * @param env - the function's environment: configuration, AWS endpoint, credentials
 * @param options - the function's timeout, and when to kill the process
 */
export const startBuilt = (
  bundle: string,
  event: unknown,
  env: Record<string, string>,
  { timeoutMs = 30_000, killAfterMs = 60_000, laterRemainingMs }: InvokeOptions = {},
): BuiltInvocation => {
  const eventFile = path.join(mkdtempSync(path.join(tmpdir(), 'ecs-peers-event-')), 'event.json');
  writeFileSync(eventFile, JSON.stringify(event));
  const started = performance.now();
  const later = laterRemainingMs === undefined ? [] : [String(laterRemainingMs)];
  const child = spawn(process.execPath, [INVOKER, bundle, `@${eventFile}`, String(timeoutMs), ...later], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AWS_EC2_METADATA_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let answeredAt: number | undefined;
  let killed = false;
  let onAnswer: (run: BuiltRun) => void = () => {};
  const answered = new Promise<BuiltRun>((resolve) => (onAnswer = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (answeredAt === undefined && /^(RESULT|FAILED) .*\n/m.test(stdout)) {
      answeredAt = performance.now() - started;
      onAnswer(runFrom(stdout, stderr, answeredAt, false));
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const kill = () => {
    killed = true;
    child.kill('SIGKILL');
  };
  const timer = setTimeout(kill, killAfterMs);
  const exited = new Promise<BuiltRun>((resolve) => {
    child.once('close', () => {
      clearTimeout(timer);
      rmSync(path.dirname(eventFile), { recursive: true, force: true });
      const ms = answeredAt ?? performance.now() - started;
      const run = runFrom(stdout, stderr, ms, killed && answeredAt === undefined);
      onAnswer(run);
      resolve(run);
    });
  });
  return { answered, exited, kill };
};

/**
 * Invokes a built bundle once and waits for its process to end (see `startBuilt`).
 *
 * @param bundle - path of the built `index.mjs`
 * @param event - the Lambda event
 * @param env - the function's environment: configuration, AWS endpoint, credentials
 * @param options - the function's timeout, and when to kill the process
 */
export const invokeBuilt = (
  bundle: string,
  event: unknown,
  env: Record<string, string>,
  options: InvokeOptions = {},
): Promise<BuiltRun> => startBuilt(bundle, event, env, options).exited;
