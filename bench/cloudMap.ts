/**
 * Reconcile runs with Cloud Map as the store, against moto server for estates of growing size: prints a table of
 * API calls and run time per run (first run writes, the next finds nothing changed, a third replaces five tasks),
 * with the Cloud Map calls beside the floor of all calls: ceil(T/100) GetResources + ceil(Tc/100)
 * DescribeTasks + ceil(I/100) ListInstances (at least one) + one call per changed instance, where T is the tagged
 * tasks, Tc those of the cluster and I the instances registered before the run.
 *
 * moto's latency is not AWS's: read the calls columns as exact and the time column as the cost of our own code plus
 * loopback HTTP. `--store both` publishes to SSM as well; `--store ssm` leaves Cloud Map out (no extra columns).
 *
 *   npm run bench:cloudmap [-- 10 100 250 350] [-- --store cloudmap|both|ssm]
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  ListNamespacesCommand,
} from '@aws-sdk/client-servicediscovery';
import type { Context } from 'aws-lambda';
import { createHandler, type HandlerResult } from '../lib/handler.js';
import { seedEstate } from '../testbed/seedEstate.js';
import { motoClients, useMoto } from '../test/support/motoEnv.js';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const args = process.argv.slice(2);
const store = args.includes('--store') ? args[args.indexOf('--store') + 1] : 'cloudmap';
if (!['ssm', 'cloudmap', 'both'].includes(store ?? ''))
  throw new Error(`--store must be ssm, cloudmap or both, not ${store}`);
const ssm = store !== 'cloudmap';
const cloudMap = store !== 'ssm';
const sizes = args.map(Number).filter((size) => size > 0);
const estates = sizes.length > 0 ? sizes : [10, 100, 250, 350];
const context = { awsRequestId: 'bench', functionName: 'bench' } as Context;

const rows: string[][] = [];

/** Cloud Map calls of a run, the floor of all its calls, and all its calls (every call once, nothing retried). */
function cloudMapColumns(report: HandlerResult, instancesBefore: number): string[] {
  const calls = report.apiCalls;
  const cloudMapCalls = Object.entries(calls)
    .filter(([api]) => api.startsWith('servicediscovery:'))
    .reduce((sum, [, count]) => sum + count, 0);
  const written = report.stores.cloudMap!;
  const floor =
    Math.ceil(report.tasks.tagged / 100) +
    Math.ceil(report.tasks.inCluster / 100) +
    Math.max(1, Math.ceil(instancesBefore / 100)) +
    written.registered.length +
    written.deregistered.length;
  const ssmCalls = (calls['ssm:GetParameter'] ?? 0) + (calls['ssm:PutParameter'] ?? 0);
  const all = Object.values(calls).reduce((sum, count) => sum + count, 0) - ssmCalls;
  return [String(cloudMapCalls), String(floor), String(all)];
}
for (const running of estates) {
  const moto = await useMoto();
  try {
    const clients = motoClients();
    const stopped = Math.round(running / 10);
    const estate = await seedEstate(clients.ecs, clients.ec2, [
      { cluster: 'prod', count: running + stopped, tags: { app: 'shop' }, stopped },
      { cluster: 'other', count: 10, tags: { app: 'shop' } },
      { cluster: 'prod', count: 10 },
    ]);
    let cloudMapServiceId: string | undefined;
    if (cloudMap) {
      await clients.serviceDiscovery.send(new CreateHttpNamespaceCommand({ Name: 'bench' }));
      const { Namespaces } = await clients.serviceDiscovery.send(new ListNamespacesCommand({}));
      const { Service } = await clients.serviceDiscovery.send(
        new CreateServiceCommand({ Name: 'peers', NamespaceId: Namespaces![0]!.Id! }),
      );
      cloudMapServiceId = Service!.Id!;
    }
    const handler = createHandler({
      config: {
        ...(ssm ? { peersParameter: '/bench/peers' } : {}),
        ...(cloudMapServiceId ? { cloudMapServiceId } : {}),
        taskTags: { app: ['shop'] },
        cluster: 'prod',
        nodeBasename: 'shop',
        // The tagging path every run, so that the floor below is the one the runs can meet.
        discovery: 'tagging' as const,
      },
      clients,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics(),
    });
    let instances = 0;
    for (const run of ['first (writes)', 'unchanged', ...(cloudMap ? ['5 tasks replaced'] : [])]) {
      if (run === '5 tasks replaced') {
        const leaving = estate.tasks.filter((task) => task.running && task.cluster === 'prod').slice(0, 5);
        for (const task of leaving) await estate.stop(task);
        await estate.run({ cluster: 'prod', count: 5, tags: { app: 'shop' } });
      }
      const started = performance.now();
      const report = (await handler({}, context)) as HandlerResult;
      const wall = performance.now() - started;
      const calls = report.apiCalls;
      rows.push([
        String(report.tasks.tagged),
        String(report.nodes.length),
        run,
        String(calls['tag:GetResources'] ?? 0),
        String(calls['ecs:DescribeTasks'] ?? 0),
        String((calls['ssm:GetParameter'] ?? 0) + (calls['ssm:PutParameter'] ?? 0)),
        ...(cloudMap ? cloudMapColumns(report, instances) : []),
        wall.toFixed(0),
      ]);
      instances = report.stores.cloudMap?.instances ?? 0;
    }
  } finally {
    await moto.stop();
  }
}

const header = [
  'tagged tasks',
  'peers',
  'run',
  'GetResources',
  'DescribeTasks',
  'SSM calls',
  ...(cloudMap ? ['Cloud Map calls', 'floor (all calls)', 'all calls'] : []),
  'time (ms)',
];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
for (const row of rows) console.log(line(row));
