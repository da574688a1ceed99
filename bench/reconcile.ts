/**
 * Reconcile runs against moto server for estates of growing size: prints a table of API calls and run time
 * per run (first run writes, the next finds nothing changed). moto's latency is not AWS's: read the calls
 * column as exact and the time column as the cost of our own code plus loopback HTTP.
 *
 *   npm run bench:reconcile [-- 10 100 250 350]
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createHandler, type HandlerResult } from '../lib/handler.js';
import { seedEstate } from '../testbed/seedEstate.js';
import { startMoto } from '../testbed/motoServer.js';
import { motoClients } from '../test/support/motoEnv.js';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((size) => size > 0);
const estates = sizes.length > 0 ? sizes : [10, 100, 250, 350];
const context = { awsRequestId: 'bench', functionName: 'bench' } as Context;

const rows: string[][] = [];
for (const running of estates) {
  const moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'b',
    AWS_SECRET_ACCESS_KEY: 'b',
  });
  try {
    const clients = motoClients();
    const stopped = Math.round(running / 10);
    await seedEstate(clients.ecs, clients.ec2, [
      { cluster: 'prod', count: running + stopped, tags: { app: 'shop' }, stopped },
      { cluster: 'other', count: 10, tags: { app: 'shop' } },
      { cluster: 'prod', count: 10 },
    ]);
    const handler = createHandler({
      config: { peersParameter: '/bench/peers', taskTags: { app: ['shop'] }, cluster: 'prod', nodeBasename: 'shop' },
      clients,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics(),
    });
    for (const run of ['first (writes)', 'unchanged']) {
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
        wall.toFixed(0),
      ]);
    }
  } finally {
    await moto.stop();
  }
}

const header = ['tagged tasks', 'peers', 'run', 'GetResources', 'DescribeTasks', 'SSM calls', 'time (ms)'];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
for (const row of rows) console.log(line(row));
