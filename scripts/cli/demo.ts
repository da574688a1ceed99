/**
 * The demo: moto server on loopback, a demo ECS estate, the built reconciler run against it; then real BEAM
 * nodes, one per published task, that read the published set with EcsPeers and connect; then a task stops,
 * another starts, the next run publishes the change and the stopped task's node leaves the mesh.
 *
 * Whatever it starts stops when it ends, however it ends: an error, Ctrl-C (SIGINT), SIGTERM, SIGHUP, or a
 * closed stdout (`| head`).
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DEMO_ESTATE, seedEstate } from '../../testbed/seedEstate.js';
import { startMoto } from '../../testbed/motoServer.js';
import { context, loadHandler } from './bundle.js';
import { clusterUnavailable, compileElixir, startCluster, type Cluster, type Views } from './cluster.js';
import { progress, step } from './progress.js';
import { createDemoService, printDiscovered } from './cloudMap.js';
import { printConfig, printReport } from './report.js';

/** Demo options. `cluster`: true requires the cluster part, false skips it, undefined runs it when it can. */
export interface DemoOptions {
  verbose: boolean;
  cluster?: boolean;
  /** Publish to a Cloud Map service too (both stores), and show what a node discovers there. */
  cloudMap?: boolean;
}

const PARAMETER = '/ecs-peers/shop';
const INTERVAL_MS = 1000;
const HOLD_S = (2 * INTERVAL_MS) / 1000;

/**
 * What the demo started, stopped in reverse order: `later` in order and waiting (`hurry`: at once, after a
 * signal), `now` synchronously (on process exit, the last resort).
 */
const cleanups: { later: (hurry: boolean) => Promise<void>; now: () => void }[] = [];
let closing: Promise<void> | undefined;
const cleanUp = (hurry = false): Promise<void> =>
  (closing ??= (async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup.later(hurry).catch(() => undefined);
  })());

const exitOn = (code: number) => () => {
  if (code !== 0) process.stderr.write('\ninterrupted: stopping what the demo started\n');
  void cleanUp(true).finally(() => process.exit(code));
};

const guardExit = (): void => {
  process.once('SIGINT', exitOn(130));
  process.once('SIGTERM', exitOn(143));
  process.once('SIGHUP', exitOn(129));
  // `demo | head`: the reader went away. Stop quietly (no more output can be shown).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') exitOn(0)();
  });
  process.once('exit', () => {
    for (const cleanup of cleanups) cleanup.now();
  });
};

const after = (ms: number, what: string): string => (ms < 100 ? `as soon as ${what}` : `${ms} ms after ${what}`);

const printMesh = (views: Views, note: Record<string, string> = {}): void => {
  const width = Math.max(...Object.keys(views).map((name) => name.length));
  for (const [name, seen] of Object.entries(views).sort(([a], [b]) => a.localeCompare(b))) {
    const peers = seen.length > 0 ? `connected to ${seen.join(', ')}` : 'connected to nobody';
    console.log(`  ${name.padEnd(width)}  ${peers}${note[name] ? `  (${note[name]})` : ''}`);
  }
};

const startDemoCluster = async (motoPort: number, nodes: string[]): Promise<Cluster> => {
  console.log(`\n== the cluster: a BEAM node per published task, each reading ${PARAMETER} with EcsPeers`);
  await step('compiling elixir/ (MIX_ENV=test mix compile)', `start ${nodes.length} BEAM nodes`, compileElixir);
  const cluster = await step('starting the network namespaces', undefined, () =>
    startCluster(motoPort, PARAMETER, INTERVAL_MS),
  );
  progress(`network namespaces ${cluster.prefix}-*: a hub with a bridge, then one per node`);
  cleanups.push({ later: cluster.close, now: cluster.kill });
  const { views, ms } = await step(
    `starting ${nodes.length} BEAM nodes, shop@<task IP> each in its own network namespace, ` +
      `EcsPeers polling every ${INTERVAL_MS / 1000} s with prune: true`,
    'wait until each node is connected to every other',
    () => cluster.converge(nodes),
  );
  progress(`mesh: every node connected to every other (complete ${after(ms, 'the nodes were up')}, held ${HOLD_S} s):`);
  printMesh(views);
  return cluster;
};

/**
 * Runs the demo.
 *
 * @param options - verbose logs; whether to run the cluster part
 */
export const demo = async ({ verbose, cluster: wantCluster, cloudMap }: DemoOptions): Promise<void> => {
  guardExit();
  try {
    const unavailable = wantCluster === false ? 'you passed --no-cluster' : clusterUnavailable();
    if (unavailable && wantCluster) throw new Error(`the cluster part cannot run: ${unavailable}`);
    const moto = await step('starting moto server on loopback', 'seed a demo ECS estate', () => startMoto());
    cleanups.push({ later: () => moto.stop(), now: () => void moto.stop() });
    const motoPort = Number(new URL(moto.endpoint).port);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'demo',
      AWS_SECRET_ACCESS_KEY: 'demo',
    });
    progress(`moto server on ${moto.endpoint}; seeding the demo estate:`);
    const estate = await seedEstate(new ECSClient({}), new EC2Client({}), DEMO_ESTATE);
    for (const task of estate.tasks) {
      const tags = Object.entries(task.tags).map(([key, value]) => `${key}=${value}`);
      const state = task.running ? 'RUNNING' : 'STOPPED';
      console.log(
        `  ${task.cluster.padEnd(13)} ${task.ip.padEnd(16)} ${state.padEnd(8)} ${tags.join(',') || '(untagged)'}`,
      );
    }
    const config = {
      PEERS_PARAMETER: PARAMETER,
      TASK_TAGS: '{"app":"shop","env":"prod"}',
      ECS_CLUSTER: 'shop-prod',
      NODE_BASENAME: 'shop',
      ...(cloudMap ? { CLOUD_MAP_SERVICE_ID: await createDemoService() } : {}),
    };
    printConfig(config);
    const handler = await loadHandler(config, verbose);

    const first = await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, context);
    printReport('first run (scheduled event)', first);
    printReport('second run, nothing changed', await handler({}, context));

    if (unavailable) console.log(`\ncluster part skipped: ${unavailable}; the reconciler part goes on`);
    const cluster = unavailable ? undefined : await startDemoCluster(motoPort, first.nodes);

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
    const third = await handler(taskEvent, context);
    printReport('after the task event', third);

    if (cluster) {
      const gone = `shop@${leaving.ip}`;
      const { views, ms } = await step(
        `starting a node for the new task; the others connect it and prune ${gone}, which left the set`,
        `stop ${gone}'s node`,
        () => cluster.converge(third.nodes),
      );
      progress(`mesh after the run (complete ${after(ms, 'the new node was up')}, held ${HOLD_S} s):`);
      printMesh(views, { [gone]: 'its task stopped: pruned by the others, still running until ECS stops it' });
      await step(`stopping ${gone}'s node, as ECS stops the container`, undefined, () => cluster.stop([gone]));
    }

    const { Parameter } = await new SSMClient({}).send(new GetParameterCommand({ Name: PARAMETER }));
    const value = JSON.parse(Parameter?.Value ?? '{}') as { version?: number; nodes?: string[] };
    console.log(
      `\nwhat every node reads from ${PARAMETER}: SSM parameter version ${Parameter?.Version} ` +
        `(one per write), a peer set in format version ${value.version} with ${value.nodes?.length} nodes:`,
    );
    for (const node of value.nodes ?? []) console.log(`  ${node}`);
    console.log(`  (the raw value: ${Parameter?.Value})`);
    if (cloudMap) await printDiscovered();
  } finally {
    progress('stopping what the demo started');
    await cleanUp();
    progress('done');
  }
};
