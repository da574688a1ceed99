/**
 * The demo's BEAM cluster: drives elixir/demo/cluster.exs (`MIX_ENV=test mix run`), which starts one real
 * BEAM node per published task, `shop@<task IP>` in its own network namespace, running EcsPeers against the
 * demo's moto server, and answers when the nodes have settled on a mesh.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const elixirDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../elixir');

/** Each node's `Node.list/0`, by node name. */
export type Views = Record<string, string[]>;

/** What the cluster script answers. */
interface Reply {
  ok: boolean;
  error?: string;
  views?: Views;
  ms?: number;
  prefix?: string;
}

const which = (command: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/**
 * Says why this machine cannot run the cluster part, or returns undefined when it can: root, iproute2's
 * `ip netns`, and Elixir (`bash scripts/setup.sh elixir` installs Debian's).
 */
export const clusterUnavailable = (): string | undefined => {
  if (process.platform !== 'linux') return 'it needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'it creates network namespaces, which needs root (run the demo as root)';
  if (!which('ip')) return "iproute2's ip is missing (apt-get install iproute2)";
  if (!which('elixir') || !which('mix')) return 'Elixir is missing (bash scripts/setup.sh elixir installs it)';
  const probe = `ecsp-probe-${process.pid}`;
  const added = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (added.status !== 0) return `ip netns add failed (${added.stderr.trim()}): no network namespaces here`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
};

const mixEnv = { ...process.env, MIX_ENV: 'test' };

/** Compiles elixir/ for the test environment (the cluster script reuses the cluster tests' support code). */
export const compileElixir = (): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn('mix', ['compile'], { cwd: elixirDir, env: mixEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`MIX_ENV=test mix compile in elixir/ failed:\n${output}`)),
    );
  });

/** A running cluster script. */
export interface Cluster {
  /** The namespaces' common prefix (`ecsp-<pid>-<random>`). */
  prefix: string;
  /** Starts nodes for the names not running yet and waits until exactly `nodes` are meshed. */
  converge: (nodes: string[]) => Promise<{ views: Views; ms: number }>;
  /** Stops those nodes and removes their namespaces. */
  stop: (nodes: string[]) => Promise<void>;
  /**
   * Stops every node, removes every namespace, and waits for the script to exit. `now`: at once (SIGTERM),
   * without waiting for a command in progress (Ctrl-C).
   */
  close: (now?: boolean) => Promise<void>;
  /** Synchronous last resort (process exit): SIGTERM, which makes the script clean up and halt. */
  kill: () => void;
}

/**
 * Starts elixir/demo/cluster.exs. It runs in its own process group, so a Ctrl-C reaches this process, which
 * closes the cluster in order, rather than the BEAM's break handler.
 *
 * @param motoPort - moto's port on 127.0.0.1
 * @param parameter - the SSM parameter the nodes read
 * @param intervalMs - the nodes' polling interval
 */
export const startCluster = async (motoPort: number, parameter: string, intervalMs: number): Promise<Cluster> => {
  const child: ChildProcess = spawn('mix', ['run', '--no-start', 'demo/cluster.exs'], {
    cwd: elixirDir,
    env: {
      ...mixEnv,
      ECSP_DEMO_MOTO_PORT: String(motoPort),
      ECSP_DEMO_PARAMETER: parameter,
      ECSP_DEMO_INTERVAL: String(intervalMs),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const waiting: ((reply: Reply) => void)[] = [];
  let output: string[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      const reply = { ok: false, error: `the cluster script exited (${signal ?? code}):\n${output.join('\n')}` };
      for (const waiter of waiting.splice(0)) waiter(reply);
      resolve();
    }),
  );
  const keep = (line: string) => {
    if (line.startsWith('@@')) waiting.shift()?.(JSON.parse(line.slice(2)) as Reply);
    else output = [...output.slice(-200), line];
  };
  createInterface({ input: child.stdout! }).on('line', keep);
  createInterface({ input: child.stderr! }).on('line', keep);
  child.stdin!.on('error', () => undefined);

  const next = () => new Promise<Reply>((resolve) => (exited ? resolve({ ok: false }) : waiting.push(resolve)));
  const request = async (command: object): Promise<Reply> => {
    const reply = next();
    child.stdin!.write(`${JSON.stringify(command)}\n`);
    const answer = await reply;
    if (!answer.ok) throw new Error(answer.error ?? 'the cluster script failed');
    return answer;
  };
  const kill = () => {
    if (!exited) child.kill('SIGTERM');
  };
  const close = async (now = false) => {
    child.stdin!.end();
    if (now) kill();
    const timer = setTimeout(kill, 20_000);
    await exit;
    clearTimeout(timer);
  };

  const ready = await next();
  if (!ready.ok) {
    await close();
    throw new Error(ready.error ?? 'the cluster script did not start');
  }
  return {
    prefix: ready.prefix ?? '',
    converge: async (nodes) => {
      const { views = {}, ms = 0 } = await request({ op: 'converge', nodes });
      return { views, ms };
    },
    stop: async (nodes) => {
      await request({ op: 'stop', nodes });
    },
    close,
    kill,
  };
};
