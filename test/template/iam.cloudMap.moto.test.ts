/**
 * The built bundle under IAM enforcement, on moto server, with the Cloud Map store (PeerStore cloudmap, and both):
 * the template role's actions are enough for a real run that registers and deregisters the peers' instances, and
 * each servicediscovery action the code calls is needed (without it the run fails with HTTP 403 naming the call,
 * and no instance of a live peer is deregistered). The nodes' managed policy discovers the instances and cannot
 * write them.
 *
 * How moto enforces IAM, and what it cannot show (resource scoping): testbed/motoIam.ts. The servicediscovery
 * calls sign as `servicediscovery`, the prefix IAM uses, so moto checks the very action names of the template.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { encodePeerSet } from '../../lib/peerSet/index.js';
import { invokeBuilt, type BuiltRun } from '../../testbed/builtBundle.js';
import {
  createStackParameter,
  iamStack,
  rawAnswers,
  readerActions,
  refusal,
  roleActions,
  stackFunctionEnv,
  startIamBed,
  without,
  withoutEach,
  type IamBed,
} from '../../testbed/motoIam.js';
import { seedEstate, type Estate, type TaskGroup } from '../../testbed/seedEstate.js';
import { scheduled } from '../support/events.js';

const CLUSTER = 'shop-prod';
const TAGS = { app: 'shop', env: 'prod' };
const ESTATE: TaskGroup[] = [
  { cluster: CLUSTER, count: 6, tags: TAGS, stopped: 1 },
  { cluster: CLUSTER, count: 2, tags: { app: 'billing', env: 'prod' } },
  { cluster: 'shop-canary', count: 2, tags: TAGS },
];
const parameters = { ClusterName: CLUSTER, TaskTags: JSON.stringify(TAGS), NodeBasename: 'shop' };
const cloudMapStack = iamStack({ ...parameters, PeerStore: 'cloudmap' });
const bothStack = iamStack({ ...parameters, PeerStore: 'both' });
/** What lib/publish/cloudMap calls (ListInstances, then RegisterInstance before DeregisterInstance). */
const CLOUD_MAP_ACTIONS = [
  'servicediscovery:ListInstances',
  'servicediscovery:RegisterInstance',
  'servicediscovery:DeregisterInstance',
];
/**
 * With both stores, the calls whose refusal comes before anything is written (lib/reconcile.ts): the parameter and
 * the service are read first, and the parameter is written before any Cloud Map write.
 */
const BEFORE_WRITES = ['ssm:GetParameter', 'servicediscovery:ListInstances', 'ssm:PutParameter'];

const USERS: Record<string, string[]> = {
  admin: ['*'],
  cloudmap: roleActions(cloudMapStack),
  both: roleActions(bothStack),
  reader: readerActions(cloudMapStack),
  ...withoutEach(roleActions(cloudMapStack), CLOUD_MAP_ACTIONS),
  ...Object.fromEntries(
    Object.entries(withoutEach(roleActions(bothStack), [...CLOUD_MAP_ACTIONS, ...BEFORE_WRITES])).map(
      ([name, actions]) => [`both-${name}`, actions],
    ),
  ),
};

let bed: IamBed;
let estate: Estate;
let admin: ServiceDiscoveryClient;
let ssm: SSMClient;
/** The service of the cloudmap stack, and the one of the both stack (moto picks the ids). */
let services: { cloudmap: string; both: string };

const expectedNodes = () => estate.peers(CLUSTER, TAGS);
/** A run that must write: one peer more (to register) and one fewer (to deregister). */
const changeEstate = async () => {
  await estate.run({ cluster: CLUSTER, count: 1, tags: TAGS });
  const running = estate.tasks.find((task) => task.running && task.cluster === CLUSTER && task.tags.app === 'shop');
  await estate.stop(running!);
};
/** The service's instances: id -> node name (ECS_PEERS_NODE). */
const instances = async (serviceId: string): Promise<Map<string, string>> => {
  const { Instances } = await admin.send(new ListInstancesCommand({ ServiceId: serviceId }));
  return new Map((Instances ?? []).map((instance) => [instance.Id!, instance.Attributes?.ECS_PEERS_NODE ?? '']));
};
const nodesIn = async (serviceId: string) => [...(await instances(serviceId)).values()].sort();
const PARAMETER = bothStack.properties('PeersParameter').Name as string;
const storedValue = async () => (await ssm.send(new GetParameterCommand({ Name: PARAMETER }))).Parameter?.Value;

const invokeAs = (user: string, stack: 'cloudmap' | 'both'): Promise<BuiltRun> => {
  const resolved = stack === 'cloudmap' ? cloudMapStack : bothStack;
  // The stack's CLOUD_MAP_SERVICE_ID is a made-up id (testbed/cfnTemplate.ts): the run gets the one moto gave.
  const env = stackFunctionEnv(resolved, bed.moto.endpoint, bed.keys[user]!, { CLOUD_MAP_SERVICE_ID: services[stack] });
  return invokeBuilt(bed.bundle, scheduled, env);
};

/** A refused run: HTTP 403 naming the call, and every instance the service held is still there. */
const expectRefused = async (user: string, stack: 'cloudmap' | 'both', action: string) => {
  const before = await instances(services[stack]);
  await changeEstate();
  const run = await invokeAs(user, stack);
  expect(refusal(run)).toEqual({ status: 403, failedCall: action, answered: false });
  const after = await instances(services[stack]);
  expect([...before].filter(([id, node]) => after.get(id) !== node)).toEqual([]);
  return { before, after };
};

beforeAll(async () => {
  bed = await startIamBed(USERS);
  const aws = { endpoint: bed.moto.endpoint, region: cloudMapStack.context.region, credentials: bed.keys.admin! };
  estate = await seedEstate(new ECSClient(aws), new EC2Client(aws), ESTATE);
  admin = new ServiceDiscoveryClient(aws);
  ssm = new SSMClient(aws);

  // What the stacks create (template.yaml PeersNamespace, PeersService, PeersParameter). Both stacks would name
  // their service after the stack; here they share a namespace, so the both stack's service has a suffix.
  const namespace = cloudMapStack.properties('PeersNamespace').Name as string;
  const service = cloudMapStack.properties('PeersService');
  await admin.send(new CreateHttpNamespaceCommand({ Name: namespace }));
  const { Namespaces } = await admin.send(new ListNamespacesCommand({}));
  const NamespaceId = Namespaces!.find((entry) => entry.Name === namespace)!.Id!;
  const create = async (Name: string) =>
    (await admin.send(new CreateServiceCommand({ Name, NamespaceId, Type: service.Type }))).Service!.Id!;
  services = { cloudmap: await create(service.Name), both: await create(`${service.Name}-both`) };
  await createStackParameter(ssm, bothStack);
}, 120_000);

afterAll(() => bed?.stop());

describe('PeerStore cloudmap: the built bundle with the template role permissions, under moto IAM enforcement', () => {
  it('gives the role no SSM action', () => {
    expect(USERS.cloudmap!.filter((action) => action.startsWith('ssm:'))).toEqual([]);
    expect(USERS.cloudmap).toEqual(expect.arrayContaining(CLOUD_MAP_ACTIONS));
  });

  it('registers the peers with exactly the role actions', async () => {
    const run = await invokeAs('cloudmap', 'cloudmap');
    expect(run.failure).toBeUndefined();
    expect(run.result).toMatchObject({ written: true, nodes: expectedNodes() });
    expect(run.result!.nodes.length).toBeGreaterThan(0);
    expect(await nodesIn(services.cloudmap)).toEqual(expectedNodes());
  });

  it('deregisters a stopped peer and registers a new one with exactly the role actions', async () => {
    await changeEstate();
    const run = await invokeAs('cloudmap', 'cloudmap');
    expect(run.result?.stores?.cloudMap).toMatchObject({
      registered: [expect.any(String)],
      deregistered: [expect.any(String)],
    });
    expect(await nodesIn(services.cloudmap)).toEqual(expectedNodes());
  });

  // ListInstances is read before any write, and registrations come before deregistrations: either refusal stops
  // the run before the stopped peer's deregistration.
  it.each(CLOUD_MAP_ACTIONS.slice(0, 2))(
    'fails with AccessDenied without %s, and the service keeps its instances as they were',
    async (action) => {
      const { before, after } = await expectRefused(without(action), 'cloudmap', action);
      expect(after).toEqual(before);
    },
  );

  it('fails with AccessDenied without servicediscovery:DeregisterInstance, having registered the new peers', async () => {
    const action = 'servicediscovery:DeregisterInstance';
    const { before, after } = await expectRefused(without(action), 'cloudmap', action);
    // Make before break: the new peer is there, and so is every instance the service held.
    expect([...after.values()].sort()).toEqual([...new Set([...before.values(), ...expectedNodes()])].sort());
  });

  it('catches up on the next run with the full role', async () => {
    const run = await invokeAs('cloudmap', 'cloudmap');
    expect(run.result).toMatchObject({ written: true, nodes: expectedNodes() });
    expect(await nodesIn(services.cloudmap)).toEqual(expectedNodes());
  });
});

describe('PeerStore both: the built bundle with the template role permissions, under moto IAM enforcement', () => {
  it('publishes to the parameter and the service with exactly the role actions', async () => {
    const run = await invokeAs('both', 'both');
    expect(run.failure).toBeUndefined();
    expect(run.result).toMatchObject({ written: true, nodes: expectedNodes() });
    expect(await storedValue()).toBe(encodePeerSet(expectedNodes()));
    expect(await nodesIn(services.both)).toEqual(expectedNodes());
  });

  it.each(BEFORE_WRITES)(
    'fails with AccessDenied without %s before any write: the parameter and the service keep their peers',
    async (action) => {
      const value = await storedValue();
      const { before, after } = await expectRefused(`both-${without(action)}`, 'both', action);
      expect(after).toEqual(before);
      expect(await storedValue()).toBe(value);
    },
  );

  it.each(CLOUD_MAP_ACTIONS.slice(1))(
    'fails with AccessDenied without %s, after the parameter took the new set; the service lost no live peer',
    async (action) => {
      // The parameter is written before the Cloud Map calls (lib/reconcile.ts): it holds the new set.
      await expectRefused(`both-${without(action)}`, 'both', action);
      expect(await storedValue()).toBe(encodePeerSet(expectedNodes()));
    },
  );

  it('catches up on the next run with the full role', async () => {
    const run = await invokeAs('both', 'both');
    expect(run.failure).toBeUndefined();
    expect(await storedValue()).toBe(encodePeerSet(expectedNodes()));
    expect(await nodesIn(services.both)).toEqual(expectedNodes());
  });
});

describe('the nodes’ managed policy for Cloud Map (template.yaml PeersReaderPolicy) under moto IAM enforcement', () => {
  const names = () => ({
    NamespaceName: cloudMapStack.properties('PeersNamespace').Name as string,
    ServiceName: cloudMapStack.properties('PeersService').Name as string,
  });
  // The data plane: the SDK would prefix the host with `data-`, which a loopback endpoint has no name for.
  const readerClient = () =>
    new ServiceDiscoveryClient({
      endpoint: bed.moto.endpoint,
      region: cloudMapStack.context.region,
      credentials: bed.keys.reader!,
      disableHostPrefix: true,
      maxAttempts: 1,
    });

  it('holds only the Cloud Map discovery calls', () => {
    expect([...USERS.reader!].sort()).toEqual([
      'servicediscovery:DiscoverInstances',
      'servicediscovery:DiscoverInstancesRevision',
    ]);
  });

  it('discovers the peers with DiscoverInstances and DiscoverInstancesRevision', async () => {
    const client = readerClient();
    const revision = await client.send(new DiscoverInstancesRevisionCommand(names()));
    expect(revision.InstancesRevision).toEqual(expect.any(Number));
    const found = await client.send(new DiscoverInstancesCommand(names()));
    const nodes = (found.Instances ?? []).map((instance) => instance.Attributes?.ECS_PEERS_NODE).sort();
    expect(nodes.length).toBeGreaterThan(0);
    expect(nodes).toEqual(await nodesIn(services.cloudmap));
  });

  it('cannot write the service: RegisterInstance is refused with AccessDenied and the instances stay', async () => {
    const before = await instances(services.cloudmap);
    const client = readerClient();
    rawAnswers(client);
    const answer = await client
      .send(
        new RegisterInstanceCommand({
          ServiceId: services.cloudmap,
          InstanceId: 'intruder',
          Attributes: { AWS_INSTANCE_IPV4: '10.9.9.9', ECS_PEERS_NODE: 'shop@10.9.9.9' },
        }),
      )
      .catch((error: unknown) => error);
    expect(answer).toMatchObject({ statusCode: 403, body: expect.stringContaining('<Code>AccessDenied</Code>') });
    expect((answer as { body: string }).body).toContain(
      'is not authorized to perform: servicediscovery:RegisterInstance',
    );
    expect(await instances(services.cloudmap)).toEqual(before);
  });
});
