/**
 * ecs-peers command line.
 *
 *   demo   start moto server on loopback, seed a demo ECS estate, run the built reconciler against it,
 *          then stop a task and start another and run again, printing the peer set and what changed.
 *   run    run the built reconciler once against real AWS with your credentials: a dry run unless --write.
 *
 * Both import dist/reconcile/index.mjs (`npm run build`), the same bundle the Lambda runs.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { HandlerResult } from '../lib/handler.js';
import { DEMO_ESTATE, seedEstate } from '../testbed/seedEstate.js';
import { startMoto } from '../testbed/motoServer.js';
import { show } from './show.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_BUNDLE = path.join(root, 'dist/reconcile/index.mjs');

type Handler = (event: unknown, context: object) => Promise<HandlerResult>;

const USAGE = `usage:
  npm start                                   the demo on moto (same as: npm run cli -- demo)
  npm run cli -- run --parameter NAME --tags JSON --basename NAME [--cluster NAME] [--write] [--force] [--verbose]
      runs against the AWS account of your credentials (AWS_PROFILE, AWS_REGION ...); a dry run unless --write
  npm run cli -- show --parameter NAME     prints the peer set NAME publishes, decoded and checked as a node reads it
  --bundle PATH runs another build of the handler than dist/reconcile/index.mjs`;

/** Loads the built handler with the given configuration (the bundle reads its environment once, at import). */
const loadHandler = async (
  env: Record<string, string>,
  verbose: boolean,
  bundle = DEFAULT_BUNDLE,
): Promise<Handler> => {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build first`);
  Object.assign(process.env, env);
  if (!verbose) {
    process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  }
  const module = (await import(pathToFileURL(bundle).href)) as { handler: Handler };
  return module.handler;
};

const context = { awsRequestId: 'cli', functionName: 'ecs-peers-cli' };

const printReport = (title: string, report: HandlerResult): void => {
  console.log(`\n== ${title}`);
  console.log(`peer set (${report.nodes.length} nodes):`);
  for (const node of report.nodes) {
    const mark = report.added.includes(node) ? '+' : ' ';
    console.log(`  ${mark} ${node}`);
  }
  for (const node of report.removed) console.log(`  - ${node}`);
  const calls = Object.entries(report.apiCalls).map(([api, count]) => `${api} ${count}`);
  const rows: [string, string][] = [
    ['trigger', report.trigger + (report.dryRun ? ' (dry run)' : '') + (report.force ? ' (forced)' : '')],
    [
      'tasks',
      `${report.tasks.tagged} tagged, ${report.tasks.inCluster} in cluster, skipped ${JSON.stringify(report.tasks.skipped)}`,
    ],
    ['added / removed', `${report.added.length} / ${report.removed.length}`],
    ['changed / written', `${report.changed} / ${report.written}`],
    ['parameter', `${report.parameter}${report.version === undefined ? '' : ` (version ${report.version})`}`],
    ['AWS calls', calls.join(', ') || 'none'],
    ['duration', `${report.durationMs} ms`],
  ];
  for (const [name, value] of rows) console.log(`  ${name.padEnd(18)} ${value}`);
};

const demo = async (verbose: boolean): Promise<void> => {
  const moto = await startMoto();
  try {
    const aws = {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'demo',
      AWS_SECRET_ACCESS_KEY: 'demo',
    };
    Object.assign(process.env, aws);
    console.log(`moto server on ${moto.endpoint}; seeding the demo estate:`);
    const ecs = new ECSClient({});
    const estate = await seedEstate(ecs, new EC2Client({}), DEMO_ESTATE);
    for (const task of estate.tasks) {
      const tags =
        Object.entries(task.tags)
          .map(([key, value]) => `${key}=${value}`)
          .join(',') || '(untagged)';
      console.log(
        `  ${task.cluster.padEnd(13)} ${task.ip.padEnd(16)} ${(task.running ? 'RUNNING' : 'STOPPED').padEnd(8)} ${tags}`,
      );
    }
    const config = {
      PEERS_PARAMETER: '/ecs-peers/shop',
      TASK_TAGS: '{"app":"shop","env":"prod"}',
      ECS_CLUSTER: 'shop-prod',
      NODE_BASENAME: 'shop',
    };
    console.log(`\nreconciler configuration: ${JSON.stringify(config)}`);
    const handler = await loadHandler(config, verbose);

    printReport(
      'first run (scheduled event)',
      await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, context),
    );
    printReport('second run, nothing changed', await handler({}, context));

    const leaving = estate.tasks.find(
      (task) => task.running && task.cluster === 'shop-prod' && task.tags.app === 'shop',
    )!;
    await estate.stop(leaving);
    const [joining] = await estate.run({ cluster: 'shop-prod', count: 1, tags: { app: 'shop', env: 'prod' } });
    console.log(`\nstopped the task at ${leaving.ip}; started a task at ${joining?.ip}`);
    const taskEvent = {
      source: 'aws.ecs',
      'detail-type': 'ECS Task State Change',
      detail: { clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/shop-prod', lastStatus: 'STOPPED' },
    };
    printReport('after the task event', await handler(taskEvent, context));
    const { Parameter } = await new SSMClient({}).send(new GetParameterCommand({ Name: config.PEERS_PARAMETER }));
    console.log(
      `\nwhat every node reads from ${config.PEERS_PARAMETER} (version ${Parameter?.Version}):\n  ${Parameter?.Value}`,
    );
  } finally {
    await moto.stop();
  }
};

const runOnce = async (values: Record<string, string | boolean | undefined>): Promise<void> => {
  const missing = ['parameter', 'tags', 'basename'].filter((name) => values[name] === undefined);
  if (missing.length > 0) throw new Error(`missing --${missing.join(', --')}\n${USAGE}`);
  const handler = await loadHandler(
    {
      PEERS_PARAMETER: String(values.parameter),
      TASK_TAGS: String(values.tags),
      NODE_BASENAME: String(values.basename),
      ...(values.cluster === undefined ? {} : { ECS_CLUSTER: String(values.cluster) }),
    },
    values.verbose === true,
    values.bundle === undefined ? DEFAULT_BUNDLE : path.resolve(String(values.bundle)),
  );
  const write = values.write === true;
  const report = await handler({ dryRun: !write, force: values.force === true }, context);
  printReport(write ? 'run' : 'dry run (pass --write to publish)', report);
};

const main = async (): Promise<void> => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      parameter: { type: 'string' },
      tags: { type: 'string' },
      cluster: { type: 'string' },
      basename: { type: 'string' },
      write: { type: 'boolean' },
      force: { type: 'boolean' },
      verbose: { type: 'boolean' },
      bundle: { type: 'string' },
    },
  });
  const command = positionals[0] ?? 'demo';
  if (command === 'demo') await demo(values.verbose === true);
  else if (command === 'run') await runOnce(values);
  else if (command === 'show') process.exitCode = (await show(values.parameter)) ? 0 : 1;
  else throw new Error(`unknown command ${command}\n${USAGE}`);
};

main().catch((error: unknown) => {
  console.error(`ecs-peers: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
