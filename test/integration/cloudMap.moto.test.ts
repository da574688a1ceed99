/**
 * The Cloud Map store against moto server: the integration estate (over 100 tagged tasks, stopped ones, other
 * apps and clusters) published as instances of an HTTP namespace's service, through every trigger, and read back
 * the way the nodes read it (DiscoverInstances on the data plane).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  DiscoverInstancesCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import type { Context } from 'aws-lambda';
import type { Config } from '../../lib/config.js';
import { createHandler, type HandlerResult } from '../../lib/handler.js';
import { buildBundle, invokeBuilt } from '../../testbed/builtBundle.js';
import type { MotoServer } from '../../testbed/motoServer.js';
import { seedEstate, type Estate, type SeededTask } from '../../testbed/seedEstate.js';
import { scheduled, sqsBatch, taskEvent } from '../support/events.js';
import { motoClients, motoEnvironment, useMoto } from '../support/motoEnv.js';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const context = { awsRequestId: 'it', functionName: 'reconcile' } as Context;

let moto: MotoServer;
let estate: Estate;
let config: Config;
let invoke: (event: unknown) => Promise<HandlerResult>;
const cloudMap = () => new ServiceDiscoveryClient({});
const handlerWith = (serviceDiscovery: ServiceDiscoveryClient) => {
  const handler = createHandler({
    config,
    clients: { ...motoClients(), serviceDiscovery },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics(),
  });
  return (event: unknown) => handler(event, context) as Promise<HandlerResult>;
};

const expectedNodes = () => estate.peers('shop-prod', { app: 'shop', env: 'prod' });
const taskIdOf = (task: SeededTask) => task.arn.slice(task.arn.lastIndexOf('/') + 1);

/** The instances moto holds: id -> attributes (the last entry of an id moto listed twice). */
const registered = async () => {
  const { Instances } = await cloudMap().send(new ListInstancesCommand({ ServiceId: config.cloudMapServiceId! }));
  return new Map((Instances ?? []).map((instance) => [instance.Id!, instance.Attributes ?? {}]));
};
const registeredNodes = async () => [...(await registered()).values()].map((a) => a.ECS_PEERS_NODE!).sort();

beforeAll(async () => {
  moto = await useMoto();
  const { ecs, ec2 } = motoClients();
  estate = await seedEstate(ecs, ec2, [
    { cluster: 'shop-prod', count: 130, tags: { app: 'shop', env: 'prod' }, stopped: 12 },
    { cluster: 'shop-prod', count: 6, tags: { app: 'shop', env: 'staging' } },
    { cluster: 'shop-prod', count: 5, tags: { app: 'billing', env: 'prod' } },
    { cluster: 'shop-prod', count: 5 },
    { cluster: 'shop-canary', count: 7, tags: { app: 'shop', env: 'prod' }, stopped: 2 },
  ]);
  await cloudMap().send(new CreateHttpNamespaceCommand({ Name: 'shop' }));
  const { Namespaces } = await cloudMap().send(new ListNamespacesCommand({}));
  const namespace = Namespaces!.find((entry) => entry.Name === 'shop')!;
  const { Service } = await cloudMap().send(new CreateServiceCommand({ Name: 'peers', NamespaceId: namespace.Id! }));
  config = {
    cloudMapServiceId: Service!.Id!,
    taskTags: { app: ['shop'], env: ['prod'] },
    cluster: 'shop-prod',
    nodeBasename: 'shop',
    region: 'us-east-1',
  };
  invoke = handlerWith(cloudMap());
}, 120_000);

afterAll(async () => {
  await moto?.stop();
});

describe('the Cloud Map store against moto', () => {
  it('registers exactly the running tagged tasks of the cluster on the first run, as the nodes then read them', async () => {
    const report = await invoke(scheduled);
    expect(report).toMatchObject({ trigger: 'schedule', changed: true, written: true, removed: [] });
    expect(report.nodes).toEqual(expectedNodes());
    expect(report.stores.cloudMap).toMatchObject({ instances: 118, deregistered: [], written: true });
    expect(report.stores.cloudMap!.registered).toHaveLength(118);
    expect(report.apiCalls).toMatchObject({
      'servicediscovery:ListInstances': 1,
      'servicediscovery:RegisterInstance': 118,
    });
    expect(report.apiCalls['ssm:GetParameter']).toBeUndefined();
    expect(await registeredNodes()).toEqual(expectedNodes());

    // What a node reads: DiscoverInstances on the data plane (moto needs the host prefix off).
    const data = new ServiceDiscoveryClient({ disableHostPrefix: true });
    const { Instances } = await data.send(
      new DiscoverInstancesCommand({ NamespaceName: 'shop', ServiceName: 'peers', MaxResults: 1000 }),
    );
    expect(Instances!.map((instance) => instance.Attributes!.ECS_PEERS_NODE).sort()).toEqual(expectedNodes());
    const running = estate.tasks.find(
      (task) => task.running && task.cluster === 'shop-prod' && task.tags.env === 'prod',
    )!;
    expect(Instances!.find((instance) => instance.InstanceId === taskIdOf(running))!.Attributes).toEqual({
      AWS_INSTANCE_IPV4: running.ip,
      ECS_PEERS_NODE: `shop@${running.ip}`,
      ECS_CLUSTER_NAME: 'shop-prod',
      ECS_TASK_DEFINITION_FAMILY: 'ecs-peers-demo',
      REGION: 'us-east-1',
    });
  });

  it('makes no write on an unchanged run: two ListInstances pages, 0 registrations, 0 deregistrations', async () => {
    const report = await invoke(scheduled);
    expect(report).toMatchObject({ changed: false, written: false, added: [], removed: [] });
    expect(report.apiCalls['servicediscovery:ListInstances']).toBe(2); // 118 instances: two pages of 100
    expect(report.apiCalls['servicediscovery:RegisterInstance']).toBeUndefined();
    expect(report.apiCalls['servicediscovery:DeregisterInstance']).toBeUndefined();
  });

  it('follows tasks stopped and started: registers the new one, deregisters the stopped one, on a task event', async () => {
    const leaving = estate.tasks.find(
      (task) => task.running && task.cluster === 'shop-prod' && task.tags.env === 'prod',
    )!;
    await estate.stop(leaving);
    const [joining] = await estate.run({ cluster: 'shop-prod', count: 1, tags: { app: 'shop', env: 'prod' } });

    const report = await invoke(taskEvent('shop-prod'));
    expect(report).toMatchObject({
      trigger: 'task-state-change',
      added: [`shop@${joining!.ip}`],
      removed: [`shop@${leaving.ip}`],
    });
    expect(report.stores.cloudMap).toMatchObject({
      registered: [taskIdOf(joining!)],
      deregistered: [taskIdOf(leaving)],
    });
    expect(await registeredNodes()).toEqual(expectedNodes());
  });

  it('ignores another cluster’s event without a call, and runs once for an SQS batch', async () => {
    const ignored = await invoke(taskEvent('shop-canary'));
    expect(ignored).toMatchObject({ ignored: expect.stringContaining('shop-canary'), apiCalls: {} });
    const batch = await invoke(sqsBatch(taskEvent('shop-prod'), taskEvent('shop-prod'), taskEvent('shop-canary')));
    expect(batch).toMatchObject({ trigger: 'sqs', changed: false, written: false, batchItemFailures: [] });
    expect(batch.apiCalls['servicediscovery:ListInstances']).toBe(2);
  });

  it('reports the would-be registrations of a dry run and registers nothing', async () => {
    const started = await estate.run({ cluster: 'shop-prod', count: 2, tags: { app: 'shop', env: 'prod' } });
    const before = await registered();
    const report = await invoke({ dryRun: true });
    expect(report).toMatchObject({ trigger: 'manual', dryRun: true, changed: true, written: false });
    expect(report.stores.cloudMap!.registered.sort()).toEqual(started.map(taskIdOf).sort());
    expect(await registered()).toEqual(before);
  });

  it('re-registers every instance when forced, and the next run writes nothing', async () => {
    await invoke({});
    const forced = await invoke({ force: true });
    expect(forced).toMatchObject({ changed: false, written: true });
    expect(forced.apiCalls['servicediscovery:RegisterInstance']).toBe(expectedNodes().length);
    const after = await invoke(scheduled);
    expect(after).toMatchObject({ changed: false, written: false });
    expect(await registeredNodes()).toEqual(expectedNodes());
  });

  it('fails a run whose registration fails, deregistering nothing; the next run repairs it', async () => {
    const leaving = estate.tasks.find(
      (task) => task.running && task.cluster === 'shop-prod' && task.tags.env === 'prod',
    )!;
    await estate.stop(leaving);
    const [joining] = await estate.run({ cluster: 'shop-prod', count: 1, tags: { app: 'shop', env: 'prod' } });
    const failing = cloudMap();
    failing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === RegisterInstanceCommand.name) throw new Error('connection refused');
        return next(args);
      },
      { step: 'initialize' },
    );
    await expect(handlerWith(failing)(scheduled)).rejects.toThrow(
      `servicediscovery:RegisterInstance on instance ${taskIdOf(joining!)} of service ${config.cloudMapServiceId} failed`,
    );
    expect((await registered()).has(taskIdOf(leaving))).toBe(true); // nothing deregistered: make before break

    const repaired = await invoke(scheduled);
    expect(repaired.stores.cloudMap).toMatchObject({ registered: [taskIdOf(joining!)] });
    expect(repaired.stores.cloudMap!.deregistered).toContain(taskIdOf(leaving));
    expect(await registeredNodes()).toEqual(expectedNodes());
  });

  it('works the same through the built bundle, publishing to both stores', async () => {
    const { result } = await invokeBuilt(
      await buildBundle(),
      { dryRun: true },
      {
        ...motoEnvironment(moto),
        PEERS_PARAMETER: '/ecs-peers/shop',
        CLOUD_MAP_SERVICE_ID: config.cloudMapServiceId!,
        TASK_TAGS: JSON.stringify({ app: 'shop', env: 'prod' }),
        ECS_CLUSTER: 'shop-prod',
        NODE_BASENAME: 'shop',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    );
    expect(result?.nodes).toEqual(expectedNodes());
    expect(result?.stores).toMatchObject({
      ssm: { parameter: '/ecs-peers/shop', written: false },
      cloudMap: { serviceId: config.cloudMapServiceId, registered: [], deregistered: [], written: false },
    });
  });
});
