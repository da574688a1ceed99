/**
 * Builds and invokes the real Lambda bundle in child processes, as Lambda would run it: what the template
 * checks and the IAM test use to show that the artifact, not the TypeScript sources, works.
 */
import { execFile } from 'node:child_process';
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
  failure?: { name: string; message: string };
  /** Its JSON log lines (Powertools Logger). */
  logs: Record<string, unknown>[];
  output: string;
}

/**
 * Invokes a built bundle once in a fresh Node.js process whose environment is only `env` (plus PATH and HOME):
 * nothing leaks from this process, credentials included.
 *
 * @param bundle - path of the built `index.mjs`
 * @param event - the Lambda event
 * @param env - the function's environment: configuration, AWS endpoint, credentials
 */
export const invokeBuilt = async (bundle: string, event: unknown, env: Record<string, string>): Promise<BuiltRun> => {
  const childEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...env,
  };
  let stdout: string;
  let stderr = '';
  try {
    ({ stdout, stderr } = await run(process.execPath, [INVOKER, bundle, JSON.stringify(event)], {
      env: childEnv,
      timeout: 60_000,
    }));
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    if (failed.stdout === undefined) throw error;
    stdout = failed.stdout;
    stderr = failed.stderr ?? '';
  }
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  // Powertools writes warnings and errors to stderr, the rest to stdout.
  const logs = [...lines, ...stderr.split('\n')].flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  const last = lines.at(-1) ?? '';
  const output = `${stdout}${stderr}`;
  if (last.startsWith('RESULT '))
    return { result: JSON.parse(last.slice('RESULT '.length)) as HandlerResult, logs, output };
  if (last.startsWith('FAILED ')) return { failure: JSON.parse(last.slice('FAILED '.length)), logs, output };
  throw new Error(`the bundle ${bundle} neither returned nor threw:\n${output}`);
};
