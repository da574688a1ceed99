/**
 * moto server on loopback: the local AWS stand-in for the demo and the integration tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A running moto server. */
export interface MotoServer {
  /** `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`. */
  endpoint: string;
  stop: () => Promise<void>;
}

const INSTALL_HINT =
  "moto server was not found: run `bash scripts/setup.sh moto` (or `pip install 'moto[server]'`), " +
  'or point MOTO_SERVER at the moto_server executable';

/**
 * Finds the moto_server executable: `$MOTO_SERVER`, the project's `.venv`, then `PATH`.
 *
 * @throws Error saying how to install moto when there is none
 */
export const findMotoServer = (): string => {
  const candidates = [process.env.MOTO_SERVER, path.join(root, '.venv/bin/moto_server')];
  const found = candidates.find((candidate) => candidate && existsSync(candidate));
  if (found) return found;
  const which = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error(INSTALL_HINT);
};

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });

const waitUntilUp = async (
  endpoint: string,
  child: ChildProcess,
  output: () => string,
  spawnError: () => Error | undefined,
): Promise<void> => {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const error = spawnError();
    // EACCES (a .venv another user owns), ENOENT (a MOTO_SERVER that went away): say so, with the way out.
    if (error) throw new Error(`moto_server could not be started (${error.message}): ${INSTALL_HINT}`);
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${output()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${output()}`);
};

/**
 * Starts moto server on a free loopback port and pins ECS task states (moto otherwise advances a task one
 * state on every DescribeTasks).
 *
 * @param env - extra environment for moto, e.g. `{ INITIAL_NO_AUTH_ACTION_COUNT: '5' }`
 * @example
 * const moto = await startMoto();
 * process.env.AWS_ENDPOINT_URL = moto.endpoint;
 * await moto.stop();
 */
export const startMoto = async (env: Record<string, string> = {}): Promise<MotoServer> => {
  const executable = findMotoServer();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (spawnError || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  try {
    await waitUntilUp(
      endpoint,
      child,
      () => log,
      () => spawnError,
    );
    await pinTaskStates(endpoint);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop };
};

/**
 * Makes moto keep ECS tasks in the state they are in (RUNNING stays RUNNING until StopTask).
 *
 * @param endpoint - moto's address
 */
export const pinTaskStates = async (endpoint: string): Promise<void> => {
  const response = await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    body: JSON.stringify({ model_name: 'ecs::task', transition: { progression: 'manual', times: 1_000_000_000 } }),
  });
  if (!response.ok) throw new Error(`moto refused to pin ECS task states: HTTP ${response.status}`);
};
