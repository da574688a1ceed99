/**
 * The reconciler against moto server: a realistic estate (over 100 tagged tasks, stopped ones, untagged ones,
 * other clusters, other tag values) and every trigger kind, through the real SDK clients, signing and paging.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { createHandler, type HandlerResult } from '../../lib/handler.js';
import { encodePeerSet } from '../../lib/peerSet/index.js';
import { seedEstate, type Estate, type SeededTask } from '../../testbed/seedEstate.js';
import type { MotoServer } from '../../testbed/motoServer.js';
import { buildBundle, invokeBuilt } from '../../testbed/builtBundle.js';
import { scheduled, sqsBatch, taskEvent } from '../support/events.js';
import { motoClients, motoEnvironment, useMoto } from '../support/motoEnv.js';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const PARAMETER = '/ecs-peers/shop';
const config = {
  peersParameter: PARAMETER,
  taskTags: { app: ['shop'], env: ['prod'] },
  cluster: 'shop-prod',
  nodeBasename: 'shop',
};
const context = { awsRequestId: 'it', functionName: 'reconcile' } as Context;

let moto: MotoServer;
let estate: Estate;
const clients = () => motoClients();
const handler = createHandler({
  config,
  clients: clients(),
  logger: new Logger({ logLevel: 'SILENT' }),
  metrics: new Metrics(),
});
const invoke = (event: unknown) => handler(event, context) as Promise<HandlerResult>;

const expectedNodes = () => estate.peers('shop-prod', { app: 'shop', env: 'prod' });

const stored = async () => (await clients().ssm.send(new GetParameterCommand({ Name: PARAMETER }))).Parameter!;

beforeAll(async () => {
  moto = await useMoto();
  const { ecs, ec2 } = clients();
  estate = await seedEstate(ecs, ec2, [
    { cluster: 'shop-prod', count: 130, tags: { app: 'shop', env: 'prod' }, stopped: 12 },
    { cluster: 'shop-prod', count: 6, tags: { app: 'shop', env: 'staging' } },
    { cluster: 'shop-prod', count: 5, tags: { app: 'billing', env: 'prod' } },
    { cluster: 'shop-prod', count: 5 },
    { cluster: 'shop-canary', count: 7, tags: { app: 'shop', env: 'prod' }, stopped: 2 },
  ]);
}, 120_000);

afterAll(async () => {
  await moto?.stop();
});

describe('the reconciler against moto', () => {
  it('publishes exactly the running tagged tasks of the cluster on the first scheduled run', async () => {
    const report = await invoke(scheduled);
    expect(report.nodes).toHaveLength(118);
    expect(report.nodes).toEqual(expectedNodes());
    expect(report).toMatchObject({ trigger: 'schedule', changed: true, written: true, removed: [] });
    expect(report.tasks).toMatchObject({ tagged: 137, inCluster: 130, skipped: { 'not-running': 12 } });
    // 137 tagged tasks: two full-or-short pages, and moto may end with an empty page behind a token.
    expect(report.apiCalls['tag:GetResources']).toBeGreaterThanOrEqual(2);
    expect(report.apiCalls).toMatchObject({ 'ecs:DescribeTasks': 2, 'ssm:GetParameter': 2, 'ssm:PutParameter': 1 });
    const parameter = await stored();
    expect(parameter.Value).toBe(encodePeerSet(expectedNodes()));
  });

  it('does not rewrite an unchanged set: the SSM version stays the same', async () => {
    const before = (await stored()).Version;
    const report = await invoke(scheduled);
    expect(report).toMatchObject({ changed: false, written: false, version: before });
    expect(report.apiCalls['ssm:PutParameter']).toBeUndefined();
    expect((await stored()).Version).toBe(before);
  });

  it('follows a deployment: a stopped task leaves the set and a new one joins it, on a task event', async () => {
    const leaving = estate.tasks.find(
      (task) => task.running && task.cluster === 'shop-prod' && task.tags.env === 'prod',
    )!;
    await estate.stop(leaving);
    const [joining] = await estate.run({ cluster: 'shop-prod', count: 1, tags: { app: 'shop', env: 'prod' } });
    const before = (await stored()).Version!;

    const report = await invoke(taskEvent('shop-prod'));
    expect(report).toMatchObject({
      trigger: 'task-state-change',
      added: [`shop@${(joining as SeededTask).ip}`],
      removed: [`shop@${leaving.ip}`],
      written: true,
      version: before + 1,
    });
    expect(report.nodes).toEqual(expectedNodes());
  });

  it('ignores a task event of another cluster, leaving the parameter as it is', async () => {
    const before = await stored();
    const report = await invoke(taskEvent('shop-canary'));
    expect(report).toMatchObject({ ignored: expect.stringContaining('shop-canary'), written: false });
    expect(await stored()).toEqual(before);
  });

  it('runs once for an SQS batch of events', async () => {
    const report = await invoke(sqsBatch(taskEvent('shop-prod'), taskEvent('shop-prod'), taskEvent('shop-canary')));
    expect(report).toMatchObject({ trigger: 'sqs', changed: false, written: false, batchItemFailures: [] });
    expect(report.apiCalls['ecs:DescribeTasks']).toBe(2);
  });

  it('computes but writes nothing on a dry run', async () => {
    await estate.run({ cluster: 'shop-prod', count: 2, tags: { app: 'shop', env: 'prod' } });
    const before = await stored();
    const report = await invoke({ dryRun: true });
    expect(report).toMatchObject({ trigger: 'manual', dryRun: true, changed: true, written: false });
    expect(report.added).toHaveLength(2);
    expect(await stored()).toMatchObject({ Version: before.Version, Value: before.Value });
  });

  it('rewrites an unchanged set when forced', async () => {
    await invoke({});
    const before = (await stored()).Version!;
    const report = await invoke({ force: true });
    expect(report).toMatchObject({ changed: false, written: true, version: before + 1 });
  });

  it('repairs a parameter someone overwrote by hand on the next run', async () => {
    await clients().ssm.send(
      new PutParameterCommand({ Name: PARAMETER, Value: 'oops', Type: 'String', Overwrite: true }),
    );
    const report = await invoke(scheduled);
    expect(report).toMatchObject({ changed: true, written: true });
    expect((await stored()).Value).toBe(encodePeerSet(expectedNodes()));
  });

  it('rejects a payload it does not know, writing nothing', async () => {
    const before = await stored();
    await expect(invoke({ refresh: true })).rejects.toThrow(/unrecognised payload/);
    expect((await stored()).Version).toBe(before.Version);
  });

  it('keeps the last good value when the run fails midway (ECS unreachable)', async () => {
    const before = await stored();
    const broken = createHandler({
      config,
      clients: {
        ...clients(),
        ecs: new (await import('@aws-sdk/client-ecs')).ECSClient({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 }),
      },
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics(),
    });
    await estate.stop(estate.tasks.find((task) => task.running && task.cluster === 'shop-prod')!);
    await expect(broken({}, context)).rejects.toThrow(/ecs:DescribeTasks: cluster shop-prod/);
    expect(await stored()).toMatchObject({ Version: before.Version, Value: before.Value });
  });

  it('works the same through the built bundle (esbuild.config.mjs) in a fresh Node process', async () => {
    const { result } = await invokeBuilt(
      await buildBundle(),
      { dryRun: true },
      {
        ...motoEnvironment(moto),
        PEERS_PARAMETER: PARAMETER,
        TASK_TAGS: JSON.stringify({ app: 'shop', env: 'prod' }),
        ECS_CLUSTER: 'shop-prod',
        NODE_BASENAME: 'shop',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    );
    expect(result?.nodes).toEqual(expectedNodes());
    expect(result).toMatchObject({ trigger: 'manual', dryRun: true, written: false });
  });
});
