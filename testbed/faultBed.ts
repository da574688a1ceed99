/**
 * The fault bed: moto server with a seeded estate, the built bundle, and what it takes to run one invocation of
 * that bundle behind its own fault proxy, on its own parameter, and judge what it left in the parameter.
 * Shared by the fault tests (test/faults/) and the fault benchmark (bench/faults.ts).
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { decodePeerSet, encodePeerSet } from '../lib/peerSet/index.js';
import { caseServices, type CaseServices, type InstancesLeft } from './faultCloudMap.js';
import { assertNode22, buildBundle, startBuilt, type BuiltInvocation, type InvokeOptions } from './builtBundle.js';
import { loadTemplate, resolveStack, TEST_STACK } from './cfnTemplate.js';
import { startFaultProxy, type FaultProxy, type FaultRule } from './faultProxy.js';
import { startMoto, type MotoServer } from './motoServer.js';
import { seedEstate, type Estate, type TaskGroup } from './seedEstate.js';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const CLUSTER = 'shop-prod';
export const TAGS = { app: 'shop', env: 'prod' };
/** A second cluster whose tasks carry the same tags: four peers, for cases that write per peer (Cloud Map). */
export const CANARY = 'shop-canary';

/**
 * 250 peers: three GetResources pages in moto (99 a page) and three DescribeTasks chunks (100 ARNs each), so a
 * fault on a middle page or chunk would show as a partial set. Stopped, untagged and other-cluster tasks too.
 */
export const FAULT_ESTATE: readonly TaskGroup[] = [
  { cluster: CLUSTER, count: 258, tags: TAGS, stopped: 8 },
  { cluster: CLUSTER, count: 4, tags: { app: 'billing', env: 'prod' } },
  { cluster: CLUSTER, count: 3 },
  { cluster: CANARY, count: 4, tags: TAGS },
];

/** The last good value every case's parameter starts with: two peers the estate does not have. */
export const LAST_GOOD = ['shop@10.255.0.1', 'shop@10.255.0.2'];

/**
 * What a run left in its parameter (or, for a Cloud Map case, its service), compared with the estate's full peer
 * set and the last good value.
 */
export type Stored = 'full' | 'unchanged' | 'partial' | 'empty' | 'other' | 'missing' | InstancesLeft;

/** The fault bed, started. */
export interface FaultBed {
  moto: MotoServer;
  estate: Estate;
  bundle: string;
  /** The function's timeout in template.yaml, in ms. */
  functionTimeoutMs: number;
  /** The peer set a correct run publishes now. */
  fullSet: () => string[];
  /** Creates a parameter holding `nodes` (default LAST_GOOD) and returns its name. */
  newParameter: (nodes?: readonly string[]) => Promise<string>;
  /** The parameter's value and version now. */
  read: (name: string) => Promise<{ value?: string; version?: number }>;
  /** Compares a stored value with the full set and LAST_GOOD. */
  judge: (value: string | undefined, full?: readonly string[]) => Stored;
  /** The function's environment (template.yaml's, resolved) for a parameter, pointed at `endpoint`. */
  functionEnv: (
    parameter: string,
    endpoint: string,
    overrides?: Record<string, string | undefined>,
  ) => Record<string, string>;
  /** Cloud Map services for Cloud Map cases, in moto. */
  services: CaseServices;
  /** Starts a fault proxy in front of moto with these rules. */
  proxy: (rules?: readonly FaultRule[]) => Promise<FaultProxy>;
  /** Starts one invocation of the built bundle. */
  invoke: (event: unknown, env: Record<string, string>, options?: InvokeOptions) => BuiltInvocation;
  stop: () => Promise<void>;
}

let parameterCount = 0;

/** How to start the bed. */
export interface FaultBedOptions {
  /** Extra environment for every invocation (e.g. shorter client timeouts). */
  clientEnv?: Record<string, string>;
  /** The estate to seed (default FAULT_ESTATE). */
  estate?: readonly TaskGroup[];
  /** A bundle built elsewhere (default: build this checkout's). */
  bundle?: string;
}

/**
 * Starts moto, seeds the estate, and builds the bundle.
 *
 * @param options - extra invocation environment, and the estate
 */
export const startFaultBed = async ({
  clientEnv = {},
  estate: groups = FAULT_ESTATE,
  bundle: built,
}: FaultBedOptions = {}): Promise<FaultBed> => {
  assertNode22();
  const [moto, bundle] = await Promise.all([startMoto(), built ?? buildBundle()]);
  const aws = {
    endpoint: moto.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  const estate = await seedEstate(new ECSClient(aws), new EC2Client(aws), groups);
  const ssm = new SSMClient(aws);

  const stack = resolveStack(loadTemplate(), {
    ...TEST_STACK,
    region: REGION,
    accountId: ACCOUNT,
    parameters: {
      ...TEST_STACK.parameters,
      ClusterName: CLUSTER,
      TaskTags: JSON.stringify(TAGS),
      NodeBasename: 'shop',
    },
  });
  const fn = stack.properties('ReconcileFunction');
  const templateEnv = fn.Environment.Variables as Record<string, string>;
  const functionTimeoutMs = Number(fn.Timeout) * 1000;
  const fullSet = () => estate.peers(CLUSTER, TAGS);

  const newParameter = async (nodes: readonly string[] = LAST_GOOD): Promise<string> => {
    parameterCount += 1;
    const name = `/ecs-peers/faults/p${process.pid}-${parameterCount}`;
    await ssm.send(new PutParameterCommand({ Name: name, Value: encodePeerSet([...nodes]), Type: 'String' }));
    return name;
  };

  const read = async (name: string) => {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
    return {
      ...(Parameter?.Value === undefined ? {} : { value: Parameter.Value }),
      ...(Parameter?.Version ? { version: Parameter.Version } : {}),
    };
  };

  const judge = (value: string | undefined, full: readonly string[] = fullSet()): Stored => {
    if (value === undefined) return 'missing';
    const nodes = decodePeerSet(value);
    if (nodes === undefined) return 'other';
    if (value === encodePeerSet([...full])) return 'full';
    if (value === encodePeerSet([...LAST_GOOD])) return 'unchanged';
    if (nodes.length === 0) return 'empty';
    return nodes.every((node) => full.includes(node)) ? 'partial' : 'other';
  };

  const functionEnv = (parameter: string, endpoint: string, overrides: Record<string, string | undefined> = {}) => {
    const env: Record<string, string | undefined> = {
      ...templateEnv,
      PEERS_PARAMETER: parameter,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_LAMBDA_FUNCTION_NAME: 'shop-peers-reconcile',
      ...clientEnv,
      ...overrides,
    };
    return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  };

  const proxies: FaultProxy[] = [];
  const proxy = async (rules: readonly FaultRule[] = []) => {
    const started = await startFaultProxy(moto.endpoint);
    started.plan(rules);
    proxies.push(started);
    return started;
  };

  const invoke = (event: unknown, env: Record<string, string>, options: InvokeOptions = {}) =>
    startBuilt(bundle, event, env, { timeoutMs: functionTimeoutMs, ...options });

  const stop = async () => {
    await Promise.all(proxies.map((started) => started.stop()));
    await moto.stop();
  };

  return {
    moto,
    estate,
    bundle,
    functionTimeoutMs,
    fullSet,
    newParameter,
    read,
    judge,
    functionEnv,
    services: caseServices(aws),
    proxy,
    invoke,
    stop,
  };
};

/** A scheduled event, the reconciler's most common trigger. */
export const SCHEDULED = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

/** An ECS task event about a cluster. */
export const taskEvent = (clusterArn: string) => ({
  source: 'aws.ecs',
  'detail-type': 'ECS Task State Change',
  detail: { clusterArn, lastStatus: 'RUNNING' },
});
