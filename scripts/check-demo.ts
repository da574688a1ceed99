/**
 * Runs the demo end to end as a user would (`bash scripts/demo.sh --cluster`: the cluster part must run, so
 * as root) and checks what it promises:
 *   1. it ends with 0; the BEAM nodes it starts, one per published task, end up connected to each other;
 *      after the task event the new task's node is in the mesh and the stopped task's node connected to nobody;
 *   2. nothing it started is left running when it ends: no process carrying its marker variable, no network
 *      namespace of its prefix; and the same when it ends early, by a closed pipe (`| head`) and by Ctrl-C
 *      (SIGINT to its process group), both once its nodes are meshed;
 *   3. a user without root (uid 65534, in a copy of the tree it owns, with a Python of its own in .venv) gets
 *      the reconciler part: moto installed for it, the two runs published, one line saying the cluster part
 *      needs root, exit code 0, nothing left running.
 * Prints what it checked; exits non-zero with the demo's output on the first broken promise.
 *
 *   tsx scripts/check-demo.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MARK = 'ECS_PEERS_DEMO_CHECK';

class BrokenPromise extends Error {
  override name = 'BrokenPromise';
}

const check = (ok: boolean, what: string, output: string): void => {
  if (!ok) throw new BrokenPromise(`${what}\n---- the demo's output ----\n${output}`);
  console.log(`ok: ${what}`);
};

/** Pids of the processes whose environment carries the marker. */
const marked = (mark: string): number[] =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${MARK}=${mark}`);
      } catch {
        return false; // gone, or not ours to read
      }
    })
    .map(Number);

const namespaces = (prefix: string): string[] =>
  spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => prefix !== '' && name.startsWith(`${prefix}-`));

/** Waits up to `ms` for the demo's processes and namespaces to be gone; returns what is left. */
const leftovers = async (mark: string, prefix: string, ms = 30_000): Promise<string[]> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = [...marked(mark).map((pid) => `pid ${pid}`), ...namespaces(prefix).map((ns) => `netns ${ns}`)];
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};

/** `: ` and the leftovers with their command lines, or nothing when there are none. */
const describe = (pids: string[]): string =>
  (pids.length > 0 ? ':\n' : '') +
  pids
    .map((item) => {
      const pid = item.startsWith('pid ') ? item.slice(4) : undefined;
      const args = pid ? spawnSync('ps', ['-o', 'args=', '-p', pid], { encoding: 'utf8' }).stdout.trim() : '';
      return `${item} ${args}`;
    })
    .join('\n');

/** How to run the demo: as root in this checkout (the default), or as another user in a tree of its own. */
interface DemoRun {
  stopWhen?: { line: RegExp; how: 'pipe' | 'sigint' };
  as?: { uid: number; tree: string; home: string };
}

/** Runs the demo in its own process group; `stopWhen` ends it early (`pipe`: closes its stdout; `sigint`). */
const runDemo = (mark: string, { stopWhen, as }: DemoRun = {}) =>
  new Promise<{ code: number | null; output: string; running: number }>((resolve) => {
    const [command, args, cwd, env] = as
      ? [
          'setpriv',
          [`--reuid=${as.uid}`, `--regid=${as.uid}`, '--clear-groups', 'bash', 'scripts/demo.sh'],
          as.tree,
          // What a user's login shell has: the system's PATH and a home of its own, none of root's tools.
          { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: as.home, [MARK]: mark },
        ]
      : ['bash', ['scripts/demo.sh', '--cluster'], root, { ...process.env, [MARK]: mark }];
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let stopped = false;
    let running = 0;
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      if (!stopWhen || stopped || !stopWhen.line.test(output)) return;
      stopped = true;
      running = marked(mark).length;
      if (stopWhen.how === 'pipe') child.stdout.destroy();
      else process.kill(-child.pid!, 'SIGINT');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code) => resolve({ code, output, running }));
  });

const meshTable = (output: string, header: RegExp): Map<string, string[]> => {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => header.test(line));
  const table = new Map<string, string[]>();
  for (const line of start < 0 ? [] : lines.slice(start + 1)) {
    const match = /^ {2}(\S+@\S+)\s+connected to (.*?)(\s{2}\(.*)?$/.exec(line);
    if (!match) break;
    table.set(match[1]!, match[2] === 'nobody' ? [] : match[2]!.split(', '));
  }
  return table;
};

const fullMesh = (table: Map<string, string[]>, nodes: string[]): boolean =>
  nodes.every((node) => {
    const seen = table.get(node);
    return (
      seen !== undefined &&
      [...seen].sort().join() ===
        nodes
          .filter((other) => other !== node)
          .sort()
          .join()
    );
  });

const peerSet = (output: string, title: string): string[] => {
  const lines = output.split('\n');
  const start = lines.indexOf(`== ${title}`);
  const set: string[] = [];
  for (const line of lines.slice(start + 2)) {
    const match = /^ {2}([ +]) (\S+@\S+)$/.exec(line);
    if (!match) break;
    set.push(match[2]!);
  }
  return set;
};

/**
 * A copy of this working tree owned by `uid`, as a user's own clone would be, with this checkout's Node packages
 * linked in (read-only to it, and not reinstalled: the lock file is made older than them) and no .venv: the demo
 * installs moto for the user with the user's own Python.
 */
const userTree = (uid: number): { uid: number; tree: string; home: string; remove: () => void } => {
  const base = mkdtempSync(path.join(tmpdir(), 'ecs-peers-user-demo-'));
  const tree = path.join(base, 'tree');
  const home = path.join(base, 'home');
  mkdirSync(home);
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  }).stdout.split('\0');
  for (const file of files.filter((name) => name !== '')) {
    try {
      cpSync(path.join(root, file), path.join(tree, file));
    } catch (error) {
      // Only a file deleted in the working tree but not yet in the index may be missing.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(tree, 'node_modules'));
  const installed = statSync(path.join(root, 'node_modules/.package-lock.json')).mtime;
  const older = new Date(installed.getTime() - 60_000);
  utimesSync(path.join(tree, 'package-lock.json'), older, older);
  const chown = spawnSync('chown', ['-R', '--no-dereference', `${uid}:${uid}`, base], { encoding: 'utf8' });
  if (chown.status !== 0) throw new Error(`chown of the user's tree to uid ${uid} failed: ${chown.stderr.trim()}`);
  return { uid, tree, home, remove: () => rmSync(base, { recursive: true, force: true }) };
};

const prefixOf = (output: string): string => /network namespaces (ecsp-\d+-[a-z0-9]+)-\*/.exec(output)?.[1] ?? '';

const main = async (): Promise<void> => {
  const full = randomUUID();
  const started = Date.now();
  const { code, output } = await runDemo(full);
  console.log(`the demo ran in ${Math.round((Date.now() - started) / 1000)} s`);
  check(code === 0, 'the demo ends with exit code 0', output);
  const published = peerSet(output, 'first run (scheduled event)');
  check(published.length === 4, `the first run published 4 nodes: ${published.join(', ')}`, output);
  check(
    fullMesh(meshTable(output, /\] mesh: every node connected/), published),
    'each published node is connected to every other published node, and only to them',
    output,
  );
  const after = peerSet(output, 'after the task event');
  const removed = /^ {2}- (\S+@\S+)$/m.exec(output)?.[1] ?? '';
  const second = meshTable(output, /\] mesh after the run/);
  check(
    after.length === 4 && fullMesh(second, after) && !after.includes(removed),
    `after the task event, the published nodes (${after.join(', ')}) form a full mesh`,
    output,
  );
  check(
    removed !== '' && second.get(removed)?.length === 0,
    `the stopped task's node ${removed} is connected to nobody`,
    output,
  );
  const prefix = prefixOf(output);
  check(prefix !== '', `the demo named its namespaces (${prefix}-*)`, output);
  let left = await leftovers(full, prefix, 5_000);
  check(left.length === 0, `nothing the demo started is left running${describe(left)}`, output);

  for (const how of ['pipe', 'sigint'] as const) {
    const mark = randomUUID();
    const early = await runDemo(mark, { stopWhen: { line: /\] mesh: every node connected[^\n]*\n(.*\n){4}/, how } });
    const name = how === 'pipe' ? 'a closed pipe (| head)' : 'Ctrl-C (SIGINT)';
    check(
      /\] mesh: every node/.test(early.output) && early.running > 4,
      `the demo ended by ${name} once meshed, with ${early.running} processes (moto, BEAMs, ...) running`,
      early.output,
    );
    left = await leftovers(mark, prefixOf(early.output));
    check(left.length === 0, `nothing is left running after ${name}${describe(left)}`, early.output);
  }

  const user = userTree(65534);
  try {
    const mark = randomUUID();
    const began = Date.now();
    const plain = await runDemo(mark, { as: user });
    console.log(`the demo ran as uid ${user.uid} in ${Math.round((Date.now() - began) / 1000)} s`);
    check(plain.code === 0, `as uid ${user.uid}, without root, the demo ends with exit code 0`, plain.output);
    check(
      /pip install moto\[server\] into \.venv/.test(plain.output),
      "moto server was installed into the user's own .venv",
      plain.output,
    );
    const first = peerSet(plain.output, 'first run (scheduled event)');
    const then = peerSet(plain.output, 'after the task event');
    check(first.length === 4 && then.length === 4, 'both runs published their 4 nodes', plain.output);
    const skipped = plain.output.split('\n').filter((line) => /^cluster part skipped: .*needs root/.test(line));
    check(skipped.length === 1, 'one line says the cluster part needs root', plain.output);
    left = await leftovers(mark, '');
    check(left.length === 0, `nothing is left running after the user's demo${describe(left)}`, plain.output);
  } finally {
    user.remove();
  }
};

main().catch((error: unknown) => {
  console.error(`check-demo: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
