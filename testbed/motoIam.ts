/**
 * moto server under IAM enforcement, with users that hold the actions of the template's policies: what the IAM
 * tests (test/template/iam*.moto.test.ts) run the built bundle and the readers' calls against.
 *
 * moto with INITIAL_NO_AUTH_ACTION_COUNT lets the first N requests through unauthenticated (they create the
 * users here), then checks every SigV4 signature against its own IAM users and evaluates their policies for the
 * action only: the users get the policies' actions with Resource "*" and no conditions. Resource scoping (this
 * parameter, this cluster, this service) is proven by the IAM simulator in policy.test.ts and peerStore.test.ts.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { assertNode22, buildBundle, type BuiltRun } from './builtBundle.js';
import { loadTemplate, resolveStack, type ResolvedStack } from './cfnTemplate.js';
import { startMoto, type MotoServer } from './motoServer.js';

/** An IAM user's access key in moto. */
export interface Key {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The account and stack name the IAM tests resolve the template for (moto's default account). */
export const IAM_STACK = { accountId: '123456789012', region: 'us-east-1', partition: 'aws', stackName: 'shop-peers' };

/**
 * The template resolved for the IAM tests' stack.
 *
 * @param parameters - template parameter values (ClusterName, TaskTags, NodeBasename and PeerStore, ...)
 */
export const iamStack = (parameters: Record<string, string>): ResolvedStack =>
  resolveStack(loadTemplate(), { ...IAM_STACK, parameters });

type PolicyDocument = { Statement: { Action: string | string[] }[] };

const statementActions = (documents: PolicyDocument[]): string[] =>
  documents.flatMap(({ Statement }) => Statement).flatMap(({ Action }) => (Array.isArray(Action) ? Action : [Action]));

/**
 * The actions of the reconciler's role (template.yaml ReconcileRole) as the stack resolves them.
 *
 * @param stack - the resolved stack
 */
export const roleActions = (stack: ResolvedStack): string[] =>
  statementActions(
    stack
      .properties<{ Policies: { PolicyDocument: PolicyDocument }[] }>('ReconcileRole')
      .Policies.map(({ PolicyDocument }) => PolicyDocument),
  );

/**
 * The actions of the nodes' managed policy (template.yaml PeersReaderPolicy) as the stack resolves them.
 *
 * @param stack - the resolved stack
 */
export const readerActions = (stack: ResolvedStack): string[] =>
  statementActions([stack.properties<{ PolicyDocument: PolicyDocument }>('PeersReaderPolicy').PolicyDocument]);

/** The name of the user that holds every action of a set but `action`. */
export const without = (action: string): string => `without-${action.replace(':', '-')}`;

/**
 * One user per action, holding all of `actions` but that one.
 *
 * @param actions - the full set (a role's actions)
 * @param each - the actions to leave out one at a time
 * @example
 * withoutEach(['ssm:GetParameter', 'ssm:PutParameter'], ['ssm:PutParameter']);
 * // { 'without-ssm-PutParameter': ['ssm:GetParameter'] }
 */
export const withoutEach = (actions: readonly string[], each: readonly string[]): Record<string, string[]> =>
  Object.fromEntries(each.map((action) => [without(action), actions.filter((other) => other !== action)]));

/**
 * moto names an action after the request's SigV4 signing name, which for the Resource Groups Tagging API is
 * `tagging`, where IAM says `tag`. The other services the code calls sign with their IAM prefix (`ecs`, `ssm`,
 * `servicediscovery`, for the data plane's DiscoverInstances too).
 */
export const motoAction = (action: string): string => action.replace(/^tag:/, 'tagging:');

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

/** The requests createUser makes, all of them before authentication starts. */
const REQUESTS_PER_USER = 3;

const createUser = async (endpoint: string, name: string, actions: readonly string[]): Promise<Key> => {
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

/** moto under IAM enforcement and the access keys of its users. */
export interface IamMoto {
  moto: MotoServer;
  keys: Record<string, Key>;
}

/**
 * Starts moto, creates the users while it still lets requests through unsigned, and returns once every later
 * request is authenticated and authorized.
 *
 * @param users - user name -> the actions its policy allows (IAM names, `*` for all)
 */
export const startIamMoto = async (users: Record<string, readonly string[]>): Promise<IamMoto> => {
  const moto = await startMoto({
    INITIAL_NO_AUTH_ACTION_COUNT: String(Object.keys(users).length * REQUESTS_PER_USER),
  });
  try {
    const keys: Record<string, Key> = {};
    for (const [name, actions] of Object.entries(users)) keys[name] = await createUser(moto.endpoint, name, actions);
    return { moto, keys };
  } catch (error) {
    await moto.stop();
    throw error;
  }
};

/** What an IAM suite runs: moto under IAM enforcement, its users' keys, and a bundle built for the suite. */
export interface IamBed extends IamMoto {
  /** The built reconciler, `<tmp>/reconcile/index.mjs`. */
  bundle: string;
  /** Stops moto and removes the bundle. */
  stop: () => Promise<void>;
}

/**
 * Builds the bundle (refusing a Node.js other than the Lambda runtime's) and starts moto with the users.
 *
 * @param users - user name -> the actions its policy allows (IAM names, `*` for all)
 */
export const startIamBed = async (users: Record<string, readonly string[]>): Promise<IamBed> => {
  assertNode22();
  const bundle = await buildBundle();
  const removeBundle = () => rm(path.dirname(path.dirname(bundle)), { recursive: true, force: true });
  const started = await startIamMoto(users).catch(async (error: unknown) => {
    await removeBundle();
    throw error;
  });
  return { ...started, bundle, stop: async () => void (await Promise.all([started.moto.stop(), removeBundle()])) };
};

/**
 * Creates the peer set parameter as the stack does (template.yaml PeersParameter, with its initial value).
 *
 * @param ssm - an SSM client allowed to write it
 * @param stack - the resolved stack (PeerStore ssm or both)
 */
export const createStackParameter = async (ssm: SSMClient, stack: ResolvedStack): Promise<void> => {
  const { Name, Value, Type, Tier } = stack.properties('PeersParameter');
  await ssm.send(new PutParameterCommand({ Name, Value, Type, Tier }));
};

/**
 * The function's environment in the stack (template.yaml ReconcileFunction), pointed at moto as one user.
 *
 * @param stack - the resolved stack
 * @param endpoint - moto's endpoint
 * @param key - the user's access key
 * @param overrides - variables laid over the stack's, e.g. the CLOUD_MAP_SERVICE_ID moto gave the service
 */
export const stackFunctionEnv = (
  stack: ResolvedStack,
  endpoint: string,
  key: Key,
  overrides: Record<string, string> = {},
): Record<string, string> => ({
  AWS_ENDPOINT_URL: endpoint,
  AWS_REGION: stack.context.region,
  AWS_ACCESS_KEY_ID: key.accessKeyId,
  AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
  ...(stack.properties('ReconcileFunction').Environment.Variables as Record<string, string>),
  POWERTOOLS_METRICS_DISABLED: 'true',
  ...overrides,
});

/**
 * How a refused run failed: the HTTP status of the failed call and the call its ERROR log line names. moto's XML
 * AccessDenied body is unreadable to the JSON-protocol SDKs (see `rawAnswers`), so the 403 is the proof.
 *
 * @param run - a run of the built bundle
 */
export const refusal = (run: BuiltRun): { status: unknown; failedCall: unknown; answered: boolean } => ({
  status: run.failure?.cause?.httpStatusCode,
  failedCall: run.logs.find((line) => line.level === 'ERROR')?.failedCall,
  answered: run.result !== undefined,
});

/** The part of an SDK client's middleware stack rawAnswers uses (any client's fits). */
interface RawStack {
  add: (
    middleware: (next: (args: any) => Promise<unknown>) => (args: any) => Promise<never>,
    options: { step: 'deserialize'; priority: 'low' },
  ) => void;
}

/**
 * Makes a client throw every HTTP answer as it came (status and body), before the SDK parses it: how a test
 * reads moto's AccessDenied, which the JSON-protocol SDKs cannot parse.
 *
 * @param client - an SDK client (its other calls are affected too: give it one of its own)
 */
export const rawAnswers = (client: { middlewareStack: RawStack }): void => {
  client.middlewareStack.add(
    (next) => async (args) => {
      const { response } = (await next(args)) as { response: { statusCode: number; body: AsyncIterable<Uint8Array> } };
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) chunks.push(Buffer.from(chunk));
      throw Object.assign(new Error('raw answer'), {
        statusCode: response.statusCode,
        body: Buffer.concat(chunks).toString(),
      });
    },
    { step: 'deserialize', priority: 'low' },
  );
};
