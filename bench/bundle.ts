/**
 * The Lambda bundle: builds it with esbuild.config.mjs (into a temporary folder), then prints its size (raw and
 * gzip, close to what the deployment zip holds), its source map, the packages that take most of it (esbuild
 * metafile), and the cold-start import time of the built handler: a fresh `node` imports it N times, configured
 * as the template configures the function, so the module-scope work (config validation, clients, Powertools)
 * is included. Node's own start-up is measured alongside, for reference.
 *
 *   npm run bench [-- --runs 30] [-- --bundle path/to/index.mjs]   (an existing bundle instead of a build)
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BUNDLE_OPTIONS } from '../esbuild.options.mjs';
import { assertNode22, buildBundle } from '../testbed/builtBundle.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const run = promisify(execFile);
const argument = (name: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const runs = Number(argument('runs') ?? 20);
assertNode22();

const given = argument('bundle');
const bundle = given ?? (await buildBundle());
const metafilePath = path.join(path.dirname(bundle), '..', `${path.basename(path.dirname(bundle))}.meta.json`);

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const table = (header: string[], rows: string[][]) => {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log('');
};

// ------------------------------------------------------------------ sizes
const code = readFileSync(bundle);
const map = readFileSync(`${bundle}.map`);
console.log(`bundle ${bundle}\n`);
table(
  ['file', 'raw', 'gzip -9'],
  [
    ['index.mjs', kb(code.length), kb(gzipSync(code, { level: 9 }).length)],
    ['index.mjs.map', kb(map.length), kb(gzipSync(map, { level: 9 }).length)],
  ],
);

// ------------------------------------------------------------------ the floor: the same clients and commands alone
// What any Lambda making these calls must load: the four SDK clients, created at module scope with the SDK's
// defaults, and the nine commands the reconciler sends; built with the options of esbuild.config.mjs.
const MINIMUM = `
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { DeregisterInstanceCommand, ListInstancesCommand, RegisterInstanceCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { GetParameterCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
const clients = [new ECSClient({}), new ResourceGroupsTaggingAPIClient({}), new ServiceDiscoveryClient({}), new SSMClient({})];
const commands = [DescribeTasksCommand, ListTasksCommand, GetResourcesCommand, DeregisterInstanceCommand, ListInstancesCommand,
  RegisterInstanceCommand, GetParameterCommand, GetParametersCommand, PutParameterCommand];
export const handler = async (input) => Promise.all(clients.map((client, i) => client.send(new commands[i](input))));
`;
const minimumDir = await mkdtemp(path.join(tmpdir(), 'ecs-peers-minimum-'));
const minimum = path.join(minimumDir, 'index.mjs');
await build({
  stdin: { contents: MINIMUM, resolveDir: ROOT, loader: 'js', sourcefile: 'minimum.mjs' },
  outfile: minimum,
  ...BUNDLE_OPTIONS,
});
const minimumCode = readFileSync(minimum);
table(
  ['bundle', 'raw', 'gzip -9', 'limit'],
  [
    [
      'dist/reconcile/index.mjs (the function)',
      kb(code.length),
      kb(gzipSync(code, { level: 9 }).length),
      `${kb(400 * 1024)} raw`,
    ],
    [
      'the same 4 clients and 9 commands alone',
      kb(minimumCode.length),
      kb(gzipSync(minimumCode, { level: 9 }).length),
      '',
    ],
  ],
);

// ------------------------------------------------------------------ what the bundle is made of
try {
  statSync(metafilePath);
  const metafile = JSON.parse(readFileSync(metafilePath, 'utf8')) as {
    outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const output = Object.entries(metafile.outputs).find(([file]) => file.endsWith('.mjs'))![1];
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const key = match ? match[1]! : `(ours) ${input.split('/').slice(0, 1).join('/')}/`;
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  const top = [...byPackage].sort((a, b) => b[1] - a[1]);
  const rows = top
    .slice(0, 15)
    .map(([name, bytes]) => [name, kb(bytes), `${((100 * bytes) / output.bytes).toFixed(1)} %`]);
  const rest = top.slice(15).reduce((sum, [, bytes]) => sum + bytes, 0);
  rows.push([`${top.length - 15} more`, kb(rest), `${((100 * rest) / output.bytes).toFixed(1)} %`]);
  table(['package (metafile)', 'in bundle', 'share'], rows);
} catch {
  console.log(`(no metafile at ${metafilePath}: package breakdown skipped)\n`);
}

// ------------------------------------------------------------------ cold-start import time
const env = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  PEERS_PARAMETER: '/ecs-peers/bench',
  TASK_TAGS: '{"app":"shop"}',
  ECS_CLUSTER: 'prod',
  NODE_BASENAME: 'shop',
  POWERTOOLS_METRICS_DISABLED: 'true',
  NODE_OPTIONS: '--enable-source-maps',
};
const importScript = `const t = performance.now(); const m = await import(${JSON.stringify(pathToFileURL(bundle).href)}); if (typeof m.handler !== 'function') process.exit(3); console.log(performance.now() - t);`;

const sample = async (script: string, extraEnv: Record<string, string> = {}) => {
  const started = performance.now();
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...env, ...extraEnv },
  });
  return { inProcess: Number(stdout.trim() || 0), wall: performance.now() - started };
};
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const measure = async (script: string, extraEnv: Record<string, string> = {}) => {
  await sample(script, extraEnv); // warm the file system cache
  const samples = [];
  for (let index = 0; index < runs; index += 1) samples.push(await sample(script, extraEnv));
  return samples;
};
const importOf = (file: string) =>
  `const t = performance.now(); const m = await import(${JSON.stringify(pathToFileURL(file).href)}); if (typeof m.handler !== 'function') process.exit(3); console.log(performance.now() - t);`;
// Side by side: one sample of each in turn, so that both see the same load on the machine.
const pairs: { ours: number; floor: number }[] = [];
await sample(importOf(minimum));
for (let index = 0; index < runs; index += 1) {
  const ours = (await sample(importScript)).inProcess;
  const floor = (await sample(importOf(minimum))).inProcess;
  pairs.push({ ours, floor });
}
const median = (values: number[]) => quantile(values, 0.5);
const oursMedian = median(pairs.map((pair) => pair.ours));
const floorMedian = median(pairs.map((pair) => pair.floor));
console.log(`import time, side by side: ${runs} pairs of fresh processes (NODE_OPTIONS=--enable-source-maps)\n`);
table(
  ['bundle', 'import median', 'p90', 'ratio to the floor'],
  [
    [
      'dist/reconcile/index.mjs',
      `${oursMedian.toFixed(1)} ms`,
      `${quantile(
        pairs.map((p) => p.ours),
        0.9,
      ).toFixed(1)} ms`,
      `${(oursMedian / floorMedian).toFixed(2)} (limit 1.10)`,
    ],
    [
      '4 clients + 9 commands alone',
      `${floorMedian.toFixed(1)} ms`,
      `${quantile(
        pairs.map((p) => p.floor),
        0.9,
      ).toFixed(1)} ms`,
      '1.00',
    ],
  ],
);
const imports = await measure(importScript);
// Node reads and parses the whole source map at import when source maps are enabled: what that costs.
const withoutMaps = await measure(importScript, { NODE_OPTIONS: '' });
const empty = await measure('console.log(0)');
const ms = (value: number) => `${value.toFixed(1)} ms`;
console.log(
  `cold start: ${runs} fresh processes each (node ${process.version}, ${process.arch}, NODE_OPTIONS=--enable-source-maps)\n`,
);
table(
  ['measure', 'median', 'p90'],
  [
    [
      'import(index.mjs), in process',
      ms(
        quantile(
          imports.map((s) => s.inProcess),
          0.5,
        ),
      ),
      ms(
        quantile(
          imports.map((s) => s.inProcess),
          0.9,
        ),
      ),
    ],
    [
      'import(index.mjs), without --enable-source-maps',
      ms(
        quantile(
          withoutMaps.map((s) => s.inProcess),
          0.5,
        ),
      ),
      ms(
        quantile(
          withoutMaps.map((s) => s.inProcess),
          0.9,
        ),
      ),
    ],
    [
      'node process with import, wall',
      ms(
        quantile(
          imports.map((s) => s.wall),
          0.5,
        ),
      ),
      ms(
        quantile(
          imports.map((s) => s.wall),
          0.9,
        ),
      ),
    ],
    [
      'empty node process, wall',
      ms(
        quantile(
          empty.map((s) => s.wall),
          0.5,
        ),
      ),
      ms(
        quantile(
          empty.map((s) => s.wall),
          0.9,
        ),
      ),
    ],
  ],
);

if (!given) await rm(path.dirname(path.dirname(bundle)), { recursive: true, force: true });
await rm(minimumDir, { recursive: true, force: true });
