/**
 * The built bundle under IAM enforcement, on moto server, with the SSM store: the template role's actions are
 * enough for a real run on either discovery path (the Tagging API; ListTasks with DISCOVERY_PATH=listTasks), and
 * each action the code calls is needed (without it the run fails with HTTP 403 naming the call, and the parameter
 * keeps its last value). The nodes' managed policy reads the parameter and cannot write it.
 *
 * How moto enforces IAM, and what it cannot show (resource scoping): testbed/motoIam.ts.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetParameterCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { encodePeerSet, encodeV2, partName } from '../../lib/peerSet/index.js';
import { seedEstate, type Estate, type TaskGroup } from '../../testbed/seedEstate.js';
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
  type Key,
} from '../../testbed/motoIam.js';
import { scheduled } from '../support/events.js';

const PARAMETER = '/ecs-peers/shop';
const CLUSTER = 'shop-prod';
/** Enough tagged tasks to stop one per denied or changed run and still have peers. */
const ESTATE: TaskGroup[] = [
  { cluster: CLUSTER, count: 14, tags: { app: 'shop', env: 'prod' }, stopped: 1 },
  { cluster: CLUSTER, count: 2, tags: { app: 'billing', env: 'prod' } },
  { cluster: 'shop-canary', count: 2, tags: { app: 'shop', env: 'prod' } },
];

// The role's statements as the test stack resolves them (PeerStore defaults to ssm).
const stack = iamStack({
  ClusterName: CLUSTER,
  TaskTags: '{"app":"shop","env":"prod"}',
  NodeBasename: 'shop',
  PeersParameterName: PARAMETER,
});
const role = roleActions(stack);
const CODE_ACTIONS = ['tag:GetResources', 'ecs:DescribeTasks', 'ssm:GetParameter', 'ssm:PutParameter'];
/** What the ListTasks path calls instead of tag:GetResources. */
const LIST_TASKS_ACTIONS = ['ecs:ListTasks', 'ecs:DescribeTasks'];
const listTasksPath = { DISCOVERY_PATH: 'listTasks' };
/** What a run calls besides when the stored set is in the v2 form (a manifest and its parts). */
const V2_ACTION = 'ssm:GetParameters';

/** Users created while moto still lets requests through unsigned; every later request is authenticated. */
const USERS: Record<string, string[]> = {
  admin: ['*'],
  reconciler: role,
  reader: readerActions(stack),
  ...withoutEach(role, [...new Set([...CODE_ACTIONS, ...LIST_TASKS_ACTIONS, V2_ACTION])]),
};

let bed: IamBed;
let estate: Estate;
let ssm: SSMClient;

const functionEnv = (key: Key, overrides?: Record<string, string>) =>
  stackFunctionEnv(stack, bed.moto.endpoint, key, overrides);
const invokeAs = (user: string, overrides?: Record<string, string>): Promise<BuiltRun> =>
  invokeBuilt(bed.bundle, scheduled, functionEnv(bed.keys[user]!, overrides));
const storedValue = async () => (await ssm.send(new GetParameterCommand({ Name: PARAMETER }))).Parameter?.Value;
const expectedNodes = () => estate.peers(CLUSTER, { app: 'shop', env: 'prod' });
/** A changed estate, so that a successful run would have to write. */
const stopOnePeer = async () => {
  const running = estate.tasks.find((task) => task.running && task.cluster === CLUSTER && task.tags.app === 'shop');
  await estate.stop(running!);
};
/** A run without `action`, on a changed estate, fails with HTTP 403 naming the call, and writes nothing. */
const expectRefused = async (action: string, overrides?: Record<string, string>) => {
  const before = await storedValue();
  await stopOnePeer();
  const run = await invokeAs(without(action), overrides);
  expect(refusal(run)).toEqual({ status: 403, failedCall: action, answered: false });
  expect(await storedValue()).toBe(before);
};
const clientAs = (user: string) =>
  new SSMClient({
    endpoint: bed.moto.endpoint,
    region: stack.context.region,
    credentials: bed.keys[user]!,
    maxAttempts: 1,
  });

beforeAll(async () => {
  bed = await startIamBed(USERS);
  // From here on every request is signed and authorized; the estate is seeded as the admin.
  const admin = { endpoint: bed.moto.endpoint, region: stack.context.region, credentials: bed.keys.admin! };
  ssm = new SSMClient(admin);
  estate = await seedEstate(new ECSClient(admin), new EC2Client(admin), ESTATE);
  await createStackParameter(ssm, stack);
}, 120_000);

afterAll(() => bed?.stop());

describe('the built bundle with the template role permissions, under moto IAM enforcement', () => {
  it('really enforces: an unsigned request and a wrong secret are refused', async () => {
    const unsigned = await fetch(`${bed.moto.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' },
      body: JSON.stringify({ Name: PARAMETER }),
    });
    expect(unsigned.ok).toBe(false);
    const forged = await invokeBuilt(
      bed.bundle,
      scheduled,
      functionEnv({ ...bed.keys.reconciler!, secretAccessKey: 'not-the-secret' }),
    );
    // A run's first call reads the parameter (the version its write is checked against), so that is what fails.
    expect(forged.failure).toMatchObject({ name: 'PublishError', cause: { httpStatusCode: 403 } });
  });

  it('publishes the peer set with exactly the role actions', async () => {
    const run = await invokeAs('reconciler');
    expect(run.failure).toBeUndefined();
    expect(run.result).toMatchObject({ trigger: 'schedule', written: true, nodes: expectedNodes() });
    expect(run.result!.tasks.discovery).toBe('tagging');
    expect(run.result!.nodes.length).toBeGreaterThan(0);
    expect(await storedValue()).toBe(encodePeerSet(expectedNodes()));
  });

  it.each(CODE_ACTIONS)('fails with AccessDenied without %s, and the parameter keeps its last value', (action) =>
    expectRefused(action),
  );

  it('gets AccessDenied from moto for the missing action (moto answers it in XML, which the JSON SDK cannot parse)', async () => {
    const client = clientAs(without('ssm:PutParameter'));
    rawAnswers(client);
    const answer = await client
      .send(new PutParameterCommand({ Name: PARAMETER, Value: '{}', Type: 'String', Overwrite: true }))
      .catch((error: unknown) => error);
    expect(answer).toMatchObject({ statusCode: 403, body: expect.stringContaining('<Code>AccessDenied</Code>') });
    expect((answer as { body: string }).body).toContain('is not authorized to perform: ssm:PutParameter');
  });

  it('catches up on the next run with the full role', async () => {
    const run = await invokeAs('reconciler');
    expect(run.result).toMatchObject({ written: true, nodes: expectedNodes() });
    expect(await storedValue()).toBe(encodePeerSet(expectedNodes()));
  });
});

describe('the ListTasks path (DISCOVERY_PATH=listTasks) under moto IAM enforcement', () => {
  it('publishes the peer set with exactly the role actions, through ListTasks', async () => {
    await stopOnePeer();
    const run = await invokeAs('reconciler', listTasksPath);
    expect(run.failure).toBeUndefined();
    expect(run.result).toMatchObject({ written: true, nodes: expectedNodes() });
    // Not a fallback on the Tagging API: ListTasks and DescribeTasks (include TAGS) found the peers.
    expect(run.result!.tasks).toMatchObject({ discovery: 'listTasks' });
    expect(run.result!.tasks.fallback).toBeUndefined();
    expect(await storedValue()).toBe(encodePeerSet(expectedNodes()));
  });

  it.each(LIST_TASKS_ACTIONS)('fails with AccessDenied without %s, and the parameter keeps its last value', (action) =>
    expectRefused(action, listTasksPath),
  );

  it('finds the peers without tag:GetResources while DescribeTasks sends the tags (the Tagging API is its fallback)', async () => {
    await stopOnePeer();
    const run = await invokeAs(without('tag:GetResources'), listTasksPath);
    expect(run.failure).toBeUndefined();
    expect(run.result).toMatchObject({ written: true, nodes: expectedNodes(), tasks: { discovery: 'listTasks' } });
    expect(await storedValue()).toBe(encodePeerSet(expectedNodes()));
  });
});

describe('a stored v2 set (manifest and parts) under moto IAM enforcement', () => {
  /** The set as a run publishes it once it no longer fits one parameter: the parts first, then the manifest. */
  const storeV2 = async () => {
    const { main, parts } = encodeV2('shop', expectedNodes());
    for (const [index, Value] of parts.entries()) {
      await ssm.send(
        new PutParameterCommand({ Name: partName(PARAMETER, index), Value, Type: 'String', Overwrite: true }),
      );
    }
    await ssm.send(new PutParameterCommand({ Name: PARAMETER, Value: main, Type: 'String', Overwrite: true }));
  };

  it(`fails with AccessDenied without ${V2_ACTION} (reading the stored parts), and the parameter keeps its last value`, async () => {
    await storeV2();
    await expectRefused(V2_ACTION);
  });

  it('reads the stored parts and publishes the set with exactly the role actions', async () => {
    const run = await invokeAs('reconciler');
    expect(run.result).toMatchObject({ written: true, nodes: expectedNodes() });
    // The parts were read: the published nodes were known, so only the stopped peer is reported removed.
    expect(run.result).toMatchObject({ added: [], removed: [expect.any(String)] });
    expect(await storedValue()).toBe(encodePeerSet(expectedNodes()));
  });
});

describe('the nodes’ managed policy (template.yaml PeersReaderPolicy) under moto IAM enforcement', () => {
  it('holds only the SSM reads', () => {
    expect([...USERS.reader!].sort()).toEqual(['ssm:GetParameter', 'ssm:GetParameters']);
  });

  it('reads the peer set with GetParameter and GetParameters', async () => {
    const client = clientAs('reader');
    const one = await client.send(new GetParameterCommand({ Name: PARAMETER }));
    expect(one.Parameter?.Value).toBe(encodePeerSet(expectedNodes()));
    // The main parameter and a part (left by the v2 set above), as a node reads a v2 set's parts.
    const Names = [PARAMETER, partName(PARAMETER, 0)];
    const many = await client.send(new GetParametersCommand({ Names }));
    expect(many.Parameters).toHaveLength(2);
    expect(many.Parameters).toEqual((await ssm.send(new GetParametersCommand({ Names }))).Parameters);
  });

  it('cannot write the peer set: PutParameter is refused with AccessDenied and the value stays', async () => {
    const before = await storedValue();
    const client = clientAs('reader');
    rawAnswers(client);
    const answer = await client
      .send(
        new PutParameterCommand({
          Name: PARAMETER,
          Value: '{"version":1,"nodes":[]}',
          Type: 'String',
          Overwrite: true,
        }),
      )
      .catch((error: unknown) => error);
    expect(answer).toMatchObject({ statusCode: 403, body: expect.stringContaining('<Code>AccessDenied</Code>') });
    expect((answer as { body: string }).body).toContain('is not authorized to perform: ssm:PutParameter');
    expect(await storedValue()).toBe(before);
  });
});
