/**
 * Reconcile runs against moto server for estates of growing size, through the handler (so that the discovery
 * path is chosen run by run as in Lambda): prints a table of API calls and run time per run, beside the floor
 * of each discovery path counted with AWS's page sizes (100 a page, 100 tasks a DescribeTasks). moto's latency
 * is not AWS's, and moto pages differently (GetResources 99 a page, ListTasks one page whatever its size): read
 * the calls columns as exact for moto, the floor columns as what AWS would need, and the time column as the
 * cost of our own code plus loopback HTTP.
 *
 *   npm run bench:reconcile [-- 10 100 1000]    peers per estate; the default adds 2,000, 5,000 and the
 *                                              estate whose Region holds ten times the cluster's tagged tasks
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createHandler, type HandlerResult } from '../lib/handler.js';
import { seedEstate } from '../testbed/seedEstate.js';
import { motoClients, useMoto } from '../test/support/motoEnv.js';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';

/** An estate: running tagged tasks of the cluster, tagged tasks in other clusters, untagged ones in the cluster. */
interface Estate {
  label: string;
  peers: number;
  elsewhere: number;
  untagged: number;
}
const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((size) => size > 0);
const estates: Estate[] =
  sizes.length > 0
    ? sizes.map((peers) => ({ label: `${peers}`, peers, elsewhere: 10, untagged: 10 }))
    : [
        ...[10, 100, 250, 1000, 2000, 5000].map((peers) => ({ label: `${peers}`, peers, elsewhere: 10, untagged: 10 })),
        { label: '500, Region 10x', peers: 500, elsewhere: 4500, untagged: 10 },
      ];
// moto on a shared machine answers in milliseconds where AWS does in tens: give the runs room (budget 0.6 of it).
const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 300_000 } as Context;
const pages = (items: number) => Math.max(1, Math.ceil(items / 100));
const chunks = (items: number) => Math.ceil(items / 100);

const rows: string[][] = [];
for (const estate of estates) {
  const moto = await useMoto();
  try {
    const clients = motoClients();
    const stopped = Math.round(estate.peers / 10);
    await seedEstate(clients.ecs, clients.ec2, [
      { cluster: 'prod', count: estate.peers + stopped, tags: { app: 'shop' }, stopped },
      { cluster: 'other', count: estate.elsewhere, tags: { app: 'shop' } },
      { cluster: 'prod', count: estate.untagged },
    ]);
    const handler = createHandler({
      config: { peersParameter: '/bench/peers', taskTags: { app: ['shop'] }, cluster: 'prod', nodeBasename: 'shop' },
      clients,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics(),
    });
    // The floors on AWS: the Tagging API pages through every tagged task of the Region (stopped ones too) and
    // describes those of the cluster; ListTasks pages through the cluster's running tasks, tagged or not, and
    // describes them all.
    const tagged = estate.peers + stopped + estate.elsewhere;
    const floorTagging = pages(tagged) + chunks(estate.peers + stopped);
    const floorList = 2 * chunks(estate.peers + estate.untagged) || 1;
    for (const run of ['1 (writes)', '2', '3']) {
      const started = performance.now();
      const report = (await handler({}, context)) as HandlerResult;
      const wall = performance.now() - started;
      const calls = report.apiCalls;
      const ssm = Object.entries(calls)
        .filter(([api]) => api.startsWith('ssm:'))
        .reduce((sum, [, count]) => sum + count, 0);
      rows.push([
        estate.label,
        String(tagged),
        String(report.nodes.length),
        run,
        report.tasks.discovery ?? '',
        String(calls['tag:GetResources'] ?? 0),
        String(calls['ecs:ListTasks'] ?? 0),
        String(calls['ecs:DescribeTasks'] ?? 0),
        String(ssm),
        String(floorTagging),
        String(floorList),
        wall.toFixed(0),
      ]);
    }
  } finally {
    await moto.stop();
  }
}

const header = [
  'estate (peers)',
  'tagged in Region',
  'peers',
  'run',
  'path',
  'GetResources',
  'ListTasks',
  'DescribeTasks',
  'SSM calls',
  'floor tagging (AWS)',
  'floor ListTasks (AWS)',
  'time (ms)',
];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
for (const row of rows) console.log(line(row));
