/**
 * The built bundle under IAM enforcement, on moto server: the template role's actions are enough for a real run,
 * and each action the code calls is needed (without it the run fails with AccessDenied and the parameter keeps
 * its last value).
 *
 * moto with INITIAL_NO_AUTH_ACTION_COUNT checks SigV4 signatures against its own IAM users and evaluates their
 * policies for the action only: the users here get the role's actions with Resource "*" and no conditions.
 * Resource scoping (this parameter, this cluster) is proven by the IAM simulator in policy.test.ts instead.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { encodePeerSet } from '../../lib/peerSet/index.js';
import { seedEstate, type Estate, type TaskGroup } from '../../testbed/seedEstate.js';
import { startMoto, type MotoServer } from '../../testbed/motoServer.js';
import { assertNode22, buildBundle, invokeBuilt, type BuiltRun } from '../../testbed/builtBundle.js';
import { loadTemplate, resolveStack } from '../../testbed/cfnTemplate.js';

const REGION = 'us-east-1';
const PARAMETER = '/ecs-peers/shop';
const CLUSTER = 'shop-prod';
const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
/** Enough tagged tasks to stop one per denied run and still have peers. */
const ESTATE: TaskGroup[] = [
  { cluster: CLUSTER, count: 8, tags: { app: 'shop', env: 'prod' }, stopped: 1 },
  { cluster: CLUSTER, count: 2, tags: { app: 'billing', env: 'prod' } },
  { cluster: 'shop-canary', count: 2, tags: { app: 'shop', env: 'prod' } },
];

// The role's statements as the test stack resolves them.
const stack = resolveStack(loadTemplate(), {
  accountId: '123456789012',
  region: REGION,
  partition: 'aws',
  stackName: 'shop-peers',
  parameters: {
    ClusterName: CLUSTER,
    TaskTags: '{"app":"shop","env":"prod"}',
    NodeBasename: 'shop',
    PeersParameterName: PARAMETER,
  },
});
const roleActions = stack
  .properties<{ Policies: { PolicyDocument: { Statement: { Action: string | string[] }[] } }[] }>('ReconcileRole')
  .Policies.flatMap(({ PolicyDocument }) => PolicyDocument.Statement)
  .flatMap(({ Action }) => (Array.isArray(Action) ? Action : [Action]));
const CODE_ACTIONS = ['tag:GetResources', 'ecs:DescribeTasks', 'ssm:GetParameter', 'ssm:PutParameter'];

/**
 * moto names an action after the request's SigV4 signing name, which for the Resource Groups Tagging API is
 * `tagging`, where IAM says `tag`.
 */
const motoAction = (action: string) => action.replace(/^tag:/, 'tagging:');

/** Users created while moto still lets requests through unsigned; every later request is authenticated. */
const USERS: Record<string, string[]> = {
  admin: ['*'],
  reconciler: roleActions,
  ...Object.fromEntries(
    CODE_ACTIONS.map((action) => [`without-${action.replace(':', '-')}`, roleActions.filter((a) => a !== action)]),
  ),
};
const SETUP_REQUESTS = Object.keys(USERS).length * 3;

interface Key {
  accessKeyId: string;
  secretAccessKey: string;
}

/** An IAM Query API call before authentication starts (the Authorization header only routes it to IAM). */
const unsignedIam = async (endpoint: string, params: Record<string, string>): Promise<string> => {
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`IAM ${params.Action} answered HTTP ${response.status}: ${text}`);
  return text;
};

const createUser = async (endpoint: string, name: string, actions: string[]): Promise<Key> => {
  await unsignedIam(endpoint, { Action: 'CreateUser', UserName: name });
  const policy = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: actions.map(motoAction), Resource: '*' }],
  };
  await unsignedIam(endpoint, {
    Action: 'PutUserPolicy',
    UserName: name,
    PolicyName: 'policy',
    PolicyDocument: JSON.stringify(policy),
  });
  const created = await unsignedIam(endpoint, { Action: 'CreateAccessKey', UserName: name });
  const field = (tag: string) => new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(created)?.[1] ?? '';
  return { accessKeyId: field('AccessKeyId'), secretAccessKey: field('SecretAccessKey') };
};

let moto: MotoServer;
let bundle: string;
let keys: Record<string, Key>;
let estate: Estate;
let ssm: SSMClient;

const functionEnv = (key: Key): Record<string, string> => ({
  AWS_ENDPOINT_URL: moto.endpoint,
  AWS_REGION: REGION,
  AWS_ACCESS_KEY_ID: key.accessKeyId,
  AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
  ...(stack.properties('ReconcileFunction').Environment.Variables as Record<string, string>),
  POWERTOOLS_METRICS_DISABLED: 'true',
});
const invokeAs = (user: string): Promise<BuiltRun> => invokeBuilt(bundle, scheduled, functionEnv(keys[user]!));
const storedValue = async () => (await ssm.send(new GetParameterCommand({ Name: PARAMETER }))).Parameter?.Value;
const expectedNodes = () => estate.peers(CLUSTER, { app: 'shop', env: 'prod' });

beforeAll(async () => {
  assertNode22();
  bundle = await buildBundle();
  moto = await startMoto({ INITIAL_NO_AUTH_ACTION_COUNT: String(SETUP_REQUESTS) });
  keys = {};
  for (const [name, actions] of Object.entries(USERS)) keys[name] = await createUser(moto.endpoint, name, actions);

  // From here on every request is signed and authorized; the estate is seeded as the admin.
  const admin = { endpoint: moto.endpoint, region: REGION, credentials: keys.admin! };
  ssm = new SSMClient(admin);
  estate = await seedEstate(new ECSClient(admin), new EC2Client(admin), ESTATE);
  // What the stack creates (template.yaml PeersParameter).
  const initial = stack.properties('PeersParameter');
  await ssm.send(
    new PutParameterCommand({ Name: initial.Name, Value: initial.Value, Type: initial.Type, Tier: initial.Tier }),
  );
}, 120_000);

afterAll(async () => {
  await moto?.stop();
  if (bundle) await rm(path.dirname(path.dirname(bundle)), { recursive: true, force: true });
});

describe('the built bundle with the template role permissions, under moto IAM enforcement', () => {
  it('really enforces: an unsigned request and a wrong secret are refused', async () => {
    const unsigned = await fetch(`${moto.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' },
      body: JSON.stringify({ Name: PARAMETER }),
    });
    expect(unsigned.ok).toBe(false);
    const forged = await invokeBuilt(
      bundle,
      scheduled,
      functionEnv({ ...keys.reconciler!, secretAccessKey: 'not-the-secret' }),
    );
    // A run's first call reads the parameter (the version its write is checked against), so that is what fails.
    expect(forged.failure).toMatchObject({ name: 'PublishError', cause: { httpStatusCode: 403 } });
  });

  it('publishes the peer set with exactly the role actions', async () => {
    const run = await invokeAs('reconciler');
    expect(run.failure).toBeUndefined();
    expect(run.result).toMatchObject({ trigger: 'schedule', written: true, nodes: expectedNodes() });
    expect(run.result!.nodes.length).toBeGreaterThan(0);
    expect(await storedValue()).toBe(encodePeerSet(expectedNodes()));
  });

  it.each(CODE_ACTIONS)(
    'fails with AccessDenied without %s, and the parameter keeps its last value',
    async (action) => {
      const before = await storedValue();
      // A changed estate, so that a successful run would have to write.
      const running = estate.tasks.find((task) => task.running && task.cluster === CLUSTER && task.tags.app === 'shop');
      await estate.stop(running!);

      const run = await invokeAs(`without-${action.replace(':', '-')}`);
      expect(run.result).toBeUndefined();
      // moto's XML AccessDenied body is unreadable to the JSON-protocol SDK (see the next test), so the proof is the
      // HTTP 403 of the failed call and which call it was.
      expect(run.failure).toMatchObject({ cause: { httpStatusCode: 403 } });
      expect(run.logs.find((line) => line.level === 'ERROR')).toMatchObject({ failedCall: action });
      expect(await storedValue()).toBe(before);
    },
  );

  it('gets AccessDenied from moto for the missing action (moto answers it in XML, which the JSON SDK cannot parse)', async () => {
    const client = new SSMClient({
      endpoint: moto.endpoint,
      region: REGION,
      credentials: keys['without-ssm-PutParameter']!,
      maxAttempts: 1,
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const { response } = (await next(args)) as {
          response: { statusCode: number; body: AsyncIterable<Uint8Array> };
        };
        const chunks: Buffer[] = [];
        for await (const chunk of response.body) chunks.push(Buffer.from(chunk));
        throw Object.assign(new Error('raw answer'), {
          statusCode: response.statusCode,
          body: Buffer.concat(chunks).toString(),
        });
      },
      { step: 'deserialize', priority: 'low' },
    );
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
