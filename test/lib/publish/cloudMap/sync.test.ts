/**
 * The Cloud Map store through a whole run, on stubbed AWS: what moto cannot show (exact call counts, order of the
 * writes, concurrency, pages of 100, failures of one instance's call, the 1,000-instance limit).
 */
import { DescribeTasksCommand } from '@aws-sdk/client-ecs';
import {
  DeregisterInstanceCommand,
  InstanceNotFound,
  ListInstancesCommand,
  RegisterInstanceCommand,
} from '@aws-sdk/client-servicediscovery';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { DiscoveryError } from '../../../../lib/errors.js';
import { CloudMapError, taskId, TooManyInstancesError } from '../../../../lib/publish/cloudMap/index.js';
import { reconcile } from '../../../../lib/reconcile.js';
import { awsError, newClients } from '../../../support/mockAws.js';
import {
  config,
  ecs,
  estate,
  nodesOf,
  resetStubs,
  scheduled,
  serveAll,
  serveTasks,
  ssm,
} from '../../../support/stubAws.js';
import { SERVICE_ID, serveService, serviceDiscovery, type StubService } from '../../../support/stubCloudMap.js';

const cloudMapOnly = { ...config, peersParameter: undefined, cloudMapServiceId: SERVICE_ID };
const both = { ...config, cloudMapServiceId: SERVICE_ID };

/** Serves an estate of `count` running tasks (numbered from `from`) to discovery. */
const serveEstate = (count: number, from = 0) => {
  const tasks = estate(count, 'prod', from);
  serveAll([...tasks.keys()]);
  serveTasks(tasks);
  return tasks;
};

const ids = (tasks: Map<string, unknown>) => [...tasks.keys()].map(taskId).sort();
const registeredNodes = (service: StubService) =>
  [...service.instances.values()].map((attributes) => attributes.ECS_PEERS_NODE).sort();

let service: StubService;
beforeEach(() => {
  resetStubs();
  service = serveService();
});

describe('the Cloud Map store', () => {
  it('registers one instance per peer on the first run, with no SSM call when Cloud Map is the only store', async () => {
    const tasks = serveEstate(3);
    const report = await reconcile(newClients(), cloudMapOnly, scheduled);

    expect(registeredNodes(service)).toEqual(nodesOf(tasks));
    expect([...service.instances.keys()].sort()).toEqual(ids(tasks));
    expect(report).toMatchObject({ changed: true, written: true, added: nodesOf(tasks), removed: [] });
    expect(report.parameter).toBeUndefined();
    expect(report.stores).toEqual({
      cloudMap: { serviceId: SERVICE_ID, instances: 3, registered: ids(tasks), deregistered: [], written: true },
    });
    expect(report.apiCalls).toEqual({
      'tag:GetResources': 1,
      'ecs:DescribeTasks': 1,
      'servicediscovery:ListInstances': 1,
      'servicediscovery:RegisterInstance': 3,
    });
    expect(ssm.calls()).toHaveLength(0);
  });

  it('writes nothing on an unchanged run: one ListInstances, 0 registrations, 0 deregistrations', async () => {
    serveEstate(3);
    await reconcile(newClients(), cloudMapOnly, scheduled);
    serviceDiscovery.resetHistory();

    const report = await reconcile(newClients(), cloudMapOnly, scheduled);
    expect(report).toMatchObject({ changed: false, written: false, added: [], removed: [] });
    expect(report.stores.cloudMap).toMatchObject({ registered: [], deregistered: [], written: false });
    expect(serviceDiscovery.commandCalls(ListInstancesCommand)).toHaveLength(1);
    expect(serviceDiscovery.commandCalls(RegisterInstanceCommand)).toHaveLength(0);
    expect(serviceDiscovery.commandCalls(DeregisterInstanceCommand)).toHaveLength(0);
  });

  it('registers the started tasks before it deregisters the stopped ones (make before break)', async () => {
    const before = serveEstate(4);
    await reconcile(newClients(), cloudMapOnly, scheduled);
    service.writes.length = 0;

    const after = serveEstate(4, 2); // tasks 0 and 1 stopped, 4 and 5 started
    const report = await reconcile(newClients(), cloudMapOnly, scheduled);
    expect(registeredNodes(service)).toEqual(nodesOf(after));
    expect(service.writes.slice(0, 2).every((write) => write.startsWith('register '))).toBe(true);
    expect(service.writes.slice(2).every((write) => write.startsWith('deregister '))).toBe(true);
    expect(report.stores.cloudMap!.deregistered.sort()).toEqual(ids(before).slice(0, 2));
    expect(report).toMatchObject({ added: nodesOf(after).slice(2), removed: nodesOf(before).slice(0, 2) });
  });

  it('reads every ListInstances page of 100 and deregisters what a later page holds', async () => {
    const tasks = serveEstate(250);
    await reconcile(newClients(), cloudMapOnly, scheduled);
    serviceDiscovery.resetHistory();
    service.instances.set('gone-task', { ECS_PEERS_NODE: 'shop@10.200.0.1' });

    const report = await reconcile(newClients(), cloudMapOnly, scheduled);
    const pages = serviceDiscovery.commandCalls(ListInstancesCommand).map((call) => call.args[0].input);
    expect(pages.map((input) => [input.MaxResults, input.NextToken])).toEqual([
      [100, undefined],
      [100, '100'],
      [100, '200'],
    ]);
    expect(report.stores.cloudMap).toMatchObject({ registered: [], deregistered: ['gone-task'] });
    expect(registeredNodes(service)).toEqual(nodesOf(tasks));
  });

  it('keeps at most 10 register calls in flight', async () => {
    serveEstate(40);
    let inFlight = 0;
    let most = 0;
    serviceDiscovery.on(RegisterInstanceCommand).callsFake(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return { OperationId: 'op' };
    });
    await reconcile(newClients(), cloudMapOnly, scheduled);
    expect(serviceDiscovery.commandCalls(RegisterInstanceCommand)).toHaveLength(40);
    expect(most).toBe(10);
  });

  it('reports the would-be registrations and deregistrations of a dry run and sends no write', async () => {
    serveEstate(2);
    service.instances.set('gone-task', { ECS_PEERS_NODE: 'shop@10.200.0.1' });
    const report = await reconcile(newClients(), cloudMapOnly, { ...scheduled, dryRun: true });
    expect(report.stores.cloudMap).toMatchObject({
      registered: ids(estate(2)),
      deregistered: ['gone-task'],
      written: false,
    });
    expect(report).toMatchObject({ changed: true, written: false });
    expect(service.writes).toEqual([]);
  });

  it('re-registers every instance on a forced run, though nothing changed', async () => {
    const tasks = serveEstate(3);
    await reconcile(newClients(), cloudMapOnly, scheduled);
    service.writes.length = 0;
    const report = await reconcile(newClients(), cloudMapOnly, { ...scheduled, force: true });
    expect(service.writes).toEqual(ids(tasks).map((id) => `register ${id}`));
    expect(report).toMatchObject({ changed: false, written: true });
  });

  it('deregisters first when registering first would take the service over 1,000 instances', async () => {
    const tasks = serveEstate(3);
    service = serveService(
      Object.fromEntries(
        Array.from({ length: 999 }, (_, index) => [`gone-${index}`, { ECS_PEERS_NODE: 'shop@10.9.0.1' }]),
      ),
    );
    await reconcile(newClients(), cloudMapOnly, scheduled);
    expect(service.writes.slice(0, 999).every((write) => write.startsWith('deregister '))).toBe(true);
    expect(service.writes.slice(999)).toEqual(ids(tasks).map((id) => `register ${id}`));
    expect(registeredNodes(service)).toEqual(nodesOf(tasks));
  });

  it('takes a DeregisterInstance of an instance that is already gone as done', async () => {
    serveEstate(1);
    service.instances.set('gone-task', {});
    serviceDiscovery.on(DeregisterInstanceCommand).rejects(new InstanceNotFound({ message: 'gone', $metadata: {} }));
    await expect(reconcile(newClients(), cloudMapOnly, scheduled)).resolves.toMatchObject({ written: true });
  });
});

describe('the Cloud Map store when something fails', () => {
  it('sends no Cloud Map call, not even ListInstances, after a failed discovery', async () => {
    serveEstate(2);
    service.instances.set('running-task', { ECS_PEERS_NODE: 'shop@10.0.0.0' });
    ecs.on(DescribeTasksCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    await expect(reconcile(newClients(), both, scheduled)).rejects.toThrow(DiscoveryError);
    expect(serviceDiscovery.calls()).toHaveLength(0);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('fails the run naming the instance and the call when a registration fails, deregisters nothing, and the next run repairs it', async () => {
    const before = serveEstate(3);
    await reconcile(newClients(), cloudMapOnly, scheduled);
    const after = serveEstate(3, 2); // 0 and 1 stopped; 3 and 4 started
    const failing = taskId([...after.keys()][2]!);
    serviceDiscovery
      .on(RegisterInstanceCommand, { InstanceId: failing })
      .rejects(awsError('InvalidInput', 'bad attribute'));

    const error = (await reconcile(newClients(), cloudMapOnly, scheduled).catch((caught: unknown) => caught)) as Error;
    expect(error).toBeInstanceOf(CloudMapError);
    expect(error.message).toMatch(
      new RegExp(
        `^servicediscovery:RegisterInstance on instance ${failing} of service ${SERVICE_ID} failed \\(InvalidInput: bad attribute\\)`,
      ),
    );
    expect(serviceDiscovery.commandCalls(DeregisterInstanceCommand)).toHaveLength(0);
    for (const id of ids(before)) expect(service.instances.has(id)).toBe(true);

    service = serveService(Object.fromEntries(service.instances)); // the fault is over
    const repaired = await reconcile(newClients(), cloudMapOnly, scheduled);
    expect(registeredNodes(service)).toEqual(nodesOf(after));
    expect(repaired.stores.cloudMap!.registered).toEqual([failing]);
  });

  it('fails naming DeregisterInstance and the instance when a deregistration fails', async () => {
    serveEstate(1);
    service.instances.set('gone-task', {});
    serviceDiscovery.on(DeregisterInstanceCommand).rejects(awsError('ServiceNotFound', 'no such service'));
    await expect(reconcile(newClients(), cloudMapOnly, scheduled)).rejects.toThrow(
      /^servicediscovery:DeregisterInstance on instance gone-task of service srv-\w+ failed \(ServiceNotFound/,
    );
  });

  it.each([
    ['a page without Instances', {}],
    ['an instance without Id', { Instances: [{ Attributes: {} }] }],
  ])('fails naming ListInstances on %s, writing nothing', async (_what, answer) => {
    serveEstate(2);
    serviceDiscovery.on(ListInstancesCommand).resolves(answer);
    await expect(reconcile(newClients(), both, scheduled)).rejects.toThrow(
      /^servicediscovery:ListInstances on service srv-\w+ failed \(InvalidResponseError: invalid answer \(page 1\)/,
    );
    expect(service.writes).toEqual([]);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('fails on a NextToken that comes back (a pagination loop) instead of paging forever', async () => {
    serveEstate(1);
    serviceDiscovery.on(ListInstancesCommand).resolves({ Instances: [], NextToken: 'again' });
    await expect(reconcile(newClients(), cloudMapOnly, scheduled)).rejects.toThrow(/a pagination loop/);
    expect(serviceDiscovery.commandCalls(ListInstancesCommand)).toHaveLength(2);
  });

  it('fails a register answer without OperationId naming the call', async () => {
    serveEstate(1);
    serviceDiscovery.on(RegisterInstanceCommand).resolves({});
    await expect(reconcile(newClients(), cloudMapOnly, scheduled)).rejects.toThrow(
      /RegisterInstance on instance \w+ of service srv-\w+ failed \(InvalidResponseError: invalid answer \(instance \w+\): OperationId/,
    );
  });

  it('fails over 1,000 peers naming the limit, before any write to either store', async () => {
    serveEstate(1001);
    const both1001 = { ...both, peersParameter: undefined };
    await expect(reconcile(newClients(), both1001, scheduled)).rejects.toThrow(TooManyInstancesError);
    await expect(reconcile(newClients(), both1001, scheduled)).rejects.toThrow(
      /1001 peers, over Cloud Map's limit of 1000 instances per service/,
    );
    expect(serviceDiscovery.calls()).toHaveLength(0);
  });
});

describe('both stores', () => {
  it('publishes the same set to the parameter and the service, and says what each did', async () => {
    const tasks = serveEstate(2);
    const report = await reconcile(newClients(), both, scheduled);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(1);
    expect(registeredNodes(service)).toEqual(nodesOf(tasks));
    expect(report.stores).toEqual({
      ssm: { parameter: '/ecs-peers/shop', written: true },
      cloudMap: { serviceId: SERVICE_ID, instances: 2, registered: ids(tasks), deregistered: [], written: true },
    });

    service.instances.clear(); // someone emptied the service: only Cloud Map needs a write
    const repair = await reconcile(newClients(), both, scheduled);
    expect(repair.stores.ssm).toEqual({ parameter: '/ecs-peers/shop', written: false });
    expect(repair.stores.cloudMap).toMatchObject({ registered: ids(tasks), written: true });
    expect(repair).toMatchObject({ changed: true, written: true });
  });
});
